package apiclient

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// Error is a non-2xx answer of the API.
type Error struct {
	// Server is the base URL of the server that answered.
	Server string
	// Op is what was asked: "get application", "rollback", ...
	Op string
	// App is the application as "namespace/name"; empty for calls about
	// no single application.
	App string
	// Status is the HTTP status code.
	Status int
	// API is the server's error: Code (one of apiv1's Code constants, or
	// empty when the answer was not the API's), Message and, for a
	// conflicting rollback, Files.
	API apiv1.Error
}

// Error is one line: "SERVER: OP APP: MESSAGE (STATUS CODE; files: ...)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Server)
	b.WriteString(": ")
	b.WriteString(e.Op)
	if e.App != "" {
		b.WriteString(" " + e.App)
	}
	b.WriteString(": ")
	b.WriteString(oneLine(e.API.Message))
	fmt.Fprintf(&b, " (%d", e.Status)
	if e.API.Code != "" {
		b.WriteString(" " + e.API.Code)
	}
	if len(e.API.Files) > 0 {
		b.WriteString("; files: " + strings.Join(e.API.Files, ", "))
	}
	b.WriteString(")")
	return b.String()
}

// HasCode reports whether err is, or wraps, an *Error with the given
// apiv1 code.
func HasCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.API.Code == code
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
