// Package testpg starts a private PostgreSQL server for tests: initdb into
// a temporary directory, pg_ctl start on a free loopback port with fsync
// off, one database per test, everything removed by Stop. It runs the
// server binaries as the unprivileged "postgres" user when the tests run
// as root (initdb refuses root).
package testpg
