// Package cli implements the cruise command line: one file per subcommand,
// flags bound to Options structs, and the only place that reads environment
// variables. Commands return errors; Run turns them into an exit code, so
// nothing below main calls os.Exit.
package cli
