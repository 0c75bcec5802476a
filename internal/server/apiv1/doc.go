// Package apiv1 holds the JSON shapes of cruise's HTTP API under /api/v1:
// what `cruise server` writes and what the CLI's API client reads. It has
// no logic, so both sides can import it without pulling in the server.
//
// Every error is an [Error] with a stable Code a client may switch on; the
// Message is for people and may change.
package apiv1
