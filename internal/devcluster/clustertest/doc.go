// Package clustertest shares one real control plane among the tests of a
// package and gives each test a namespace of its own.
//
//	var env *clustertest.Env
//
//	func TestMain(m *testing.M) {
//		os.Exit(clustertest.Main(m, devcluster.ProfileAPI, &env))
//	}
//
//	func TestSomething(t *testing.T) {
//		ns := env.Namespace(t) // deleted again when the test ends
//		...
//	}
//
// Missing binaries fail the run with a message naming `make cluster-bins`;
// they never skip tests, so a green run always means the tests ran.
package clustertest
