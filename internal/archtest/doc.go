// Package archtest holds tests about the shape of the code base rather than
// its behaviour: every package documents itself, and packages import only
// what their place in the architecture allows.
package archtest
