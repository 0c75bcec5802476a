// Package gittest builds Git repositories and serves them on loopback for
// the tests of the packages that talk to Git (source, gitwrite): real
// servers, no mocks.
//
//   - [NewRepo] creates a repository with go-git and writes commits, tags
//     and branches straight into its object store, so tests can make trees
//     a work tree could not hold (symlinks, "..", huge files).
//   - [ServeHTTP] serves a directory of repositories over the smart HTTP
//     protocol by running the real `git http-backend` as a CGI program,
//     with optional basic or bearer auth, and counts requests so tests can
//     assert how many round trips a fetch made.
//   - [ServeSSH] serves the same directory over SSH with
//     golang.org/x/crypto/ssh, running `git upload-pack` or `git
//     receive-pack` for each exec request (fetches and pushes), with a
//     generated host key and one authorized client key, which
//     [SSHServer.Authorize] replaces; [SSHServer.KnownHosts] gives the
//     known_hosts line for it.
//
// All servers listen on 127.0.0.1:0 and stop in t.Cleanup. The git binary
// is needed only here, on the serving side.
package gittest
