package cli_test

import "testing"

// TestControllerBadFlags: flags of sealed secrets that make no sense stop
// `cruise controller` before it connects anywhere, with exit code 2 and
// the flag named.
func TestControllerBadFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"negative rotation", []string{"--key-rotation-interval", "-1h"}, "invalid --key-rotation-interval -1h0m0s"},
		{"keys namespace not a name", []string{"--keys-namespace", "Cruise_System"}, `invalid --keys-namespace "Cruise_System"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustCruise(t, 2, append([]string{"controller", "--kubeconfig", "/nonexistent/kubeconfig"}, tc.args...)...)
			wantContains(t, r.stderr, tc.want)
		})
	}
}
