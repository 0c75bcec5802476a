package cli_test

import (
	"net"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// Bad input of every kind: exit code 2, one "Error: " line naming the
// culprit, no secret in it, and nothing created in the cluster.
func TestApplyBadInput(t *testing.T) {
	t.Parallel()
	const password = "correct-Horse-battery"

	// One repository, served over HTTP without and with auth, and SSH.
	root := t.TempDir()
	repo := gittest.NewRepo(t, filepath.Join(root, "app.git"), true)
	repo.CommitDir("v1", "testdata/app-v1")
	anon := gittest.ServeHTTP(t, root, gittest.HTTPOptions{})
	authed := gittest.ServeHTTP(t, root, gittest.HTTPOptions{Username: "deployer", Password: password})
	key, pub := gittest.NewKey(t, "")
	sshSrv := gittest.ServeSSH(t, root, pub)
	_, otherHostKey := gittest.NewKey(t, "")
	wrongKnownHosts := knownhosts.Line([]string{knownhosts.Normalize(sshSrv.Addr)}, otherHostKey) + "\n"

	// A repository with a symlink out of the checkout.
	escRoot := t.TempDir()
	esc := gittest.NewRepo(t, filepath.Join(escRoot, "escape.git"), true)
	esc.CommitFiles("leak", map[string]gittest.File{
		"config.yaml": {Content: readFile(t, "testdata/app-v1/config.yaml")},
		"passwd.yaml": gittest.Symlink("../../../../../../../../etc/passwd"),
	})
	escURL := gittest.ServeHTTP(t, escRoot, gittest.HTTPOptions{}).RepoURL("escape.git")

	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/app.git"
	l.Close()

	cases := []struct {
		name string
		args []string
		// want are parts of the error line; ns is replaced by the
		// test's namespace.
		want []string
	}{
		{"malformed YAML", []string{"--source", "testdata/bad/malformed-yaml"},
			[]string{"render: config.yaml:11: yaml: mapping values are not allowed"}},
		{"unknown kind", []string{"--source", "testdata/bad/unknown-kind"},
			[]string{"Widget/gadget (widget.yaml): unknown kind", "example.com/v1"}},
		{"object rejected by the API server", []string{"--source", "testdata/bad/invalid-object"},
			[]string{"Service/ns/web (service.yaml)", "invalid object", "70000"}},
		{"missing ref", []string{"--source", anon.RepoURL("app.git"), "--ref", "tag:v9.9.9"},
			[]string{`git: ref "tag:v9.9.9" not found in ` + anon.RepoURL("app.git")}},
		{"unreachable remote", []string{"--source", closed},
			[]string{"git: cannot reach " + closed}},
		{"wrong password", []string{"--source", authed.RepoURL("app.git"), "--username", "deployer",
			"--password-file", writeFile(t, "password", "wrong-"+password)},
			[]string{"git: authentication required for " + authed.RepoURL("app.git"), "--password-file"}},
		{"ssh host key mismatch", []string{"--source", sshSrv.RepoURL("app.git"),
			"--ssh-key-file", writeFile(t, "id", string(key)),
			"--known-hosts-file", writeFile(t, "known_hosts", wrongKnownHosts)},
			[]string{"git: ssh host key mismatch for", "--known-hosts-file"}},
		{"path escaping the source", []string{"--source", "testdata/app-v1", "--path", "../app-v2"},
			[]string{"render: ../app-v2: path climbs out of the repository root"}},
		{"symlink escaping the repository", []string{"--source", escURL},
			[]string{"render: passwd.yaml: symlink resolves to /etc/passwd, outside the repository root"}},
		{"file over --max-file-size", []string{"--source", "testdata/app-v1", "--max-file-size", "64"},
			[]string{"render: config.yaml: file is 80 bytes, over the limit of 64", "--max-file-size"}},
		{"Git checkout over --max-total-size", []string{"--source", anon.RepoURL("app.git"), "--max-total-size", "100"},
			[]string{"git: commit", "over the 100-byte total limit", "--max-total-size"}},
		{"missing password file", []string{"--source", authed.RepoURL("app.git"), "--password-file", "/nonexistent/pw"},
			[]string{"--password-file /nonexistent/pw: no such file or directory"}},
		{"missing local source", []string{"--source", "testdata/no-such-dir"},
			[]string{"source testdata/no-such-dir: no such file or directory"}},
		{"no source", []string{}, []string{"--source or --chart is required"}},
		{"bad size", []string{"--source", "testdata/app-v1", "--max-file-size", "lots"},
			[]string{`"lots" is not a size`}},
		{"unknown flag", []string{"--source", "testdata/app-v1", "--frobnicate"},
			[]string{"unknown flag: --frobnicate"}},
		{"positional argument", []string{"testdata/app-v1"},
			[]string{`unexpected argument "testdata/app-v1"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := env.Namespace(t)
			a := args([]string{"apply"}, tc.args, target(ns, "app"), gitFlags(t))
			if tc.name == "no source" || tc.name == "positional argument" {
				a = args([]string{"apply"}, tc.args, target(ns, "app"))
			}
			r := mustCruise(t, 2, a...)
			if !strings.HasPrefix(r.stderr, "Error: ") || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line starting with Error: ", r.stderr)
			}
			for _, w := range tc.want {
				wantContains(t, r.stderr, strings.ReplaceAll(w, "/ns/", "/"+ns+"/"))
			}
			if strings.Contains(r.stdout+r.stderr, password) {
				t.Error("the password was printed")
			}
			wantNothingIn(t, ns)
		})
	}
}

// Bad flags, and a cluster that cannot be used: exit code 2.
func TestApplyBadFlags(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	noCluster := writeFile(t, "kubeconfig", `apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: "https://`+l.Addr().String()+`"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: gone, context: {cluster: gone, user: u}}]
current-context: gone
`)
	l.Close()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no name", []string{"--source", "testdata/app-v1"}, "--name is required"},
		{"name not a DNS label", []string{"--source", "testdata/app-v1", "--name", "My_App"}, `invalid --name "My_App"`},
		{"bad namespace", []string{"--source", "testdata/app-v1", "--name", "app", "--namespace", "Prod!"}, `invalid --namespace "Prod!"`},
		{"bad output", []string{"--source", "testdata/app-v1", "--name", "app", "-o", "yaml"}, `unknown output format "yaml"`},
		{"unreachable cluster", []string{"--source", "testdata/app-v1", "--name", "app", "--kubeconfig", noCluster}, "connection refused"},
		{"missing kubeconfig", []string{"--source", "testdata/app-v1", "--name", "app", "--kubeconfig", "/nonexistent/kubeconfig"}, "kubeconfig: stat /nonexistent/kubeconfig"},
		{"zero timeout", []string{"--source", "testdata/app-v1", "--name", "app", "--wait", "--timeout", "0s"}, "invalid --timeout 0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustCruise(t, 2, append([]string{"apply", "--kubeconfig", env.Cluster.Kubeconfig}, tc.args...)...)
			wantContains(t, r.stderr, "Error: ", tc.want)
		})
	}
}
