package controller_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"golang.org/x/crypto/ssh"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

const markedDeploy = "image: registry.example/app:1.0.0 # {\"$imagepolicy\": \"apps:app\"}\n"

// TestImageUpdateOverSSH pushes over SSH with the GitRepository's key,
// its host key checked against known_hosts; with a push Secret holding a
// key the server refuses, the run fails (Ready False, Stalled, a Warning
// event), nothing is committed and the error shows no key.
func TestImageUpdateOverSSH(t *testing.T) {
	ns := env.Namespace(t)
	root := t.TempDir()
	dir := filepath.Join(root, "env.git")
	repo := gittest.NewRepo(t, dir, true)
	key, pub := gittest.NewKey(t, "")
	wrongKey, _ := gittest.NewKey(t, "")
	srv := gittest.ServeSSH(t, root, pub)
	f := &imgFixture{fixture: &fixture{t: t, ns: ns, repo: repo, url: srv.RepoURL("env.git")}, dir: dir}
	start := f.commit("init", f.inNamespace(map[string]string{"apps/deploy.yaml": markedDeploy}))
	f.secret("ssh", map[string][]byte{"identity": key, "known_hosts": srv.KnownHosts()})
	f.secret("wrong-ssh", map[string][]byte{"identity": wrongKey, "known_hosts": srv.KnownHosts()})
	f.sourceNamed("env", func(s *cruisev1.GitRepositorySpec) { s.SecretRef = &cruisev1.LocalObjectReference{Name: "ssh"} })
	f.policy("app", nil, app2)

	f.automation("refused", "apps", func(s *cruisev1.ImageUpdateAutomationSpec) {
		s.PushSecretRef = &cruisev1.LocalObjectReference{Name: "wrong-ssh"}
	})
	a := f.waitAuto("refused", metav1.ConditionFalse, cruisev1.ReasonAuthenticationFailed)
	if !meta.IsStatusConditionTrue(a.Status.Conditions, cruisev1.ConditionStalled) {
		t.Errorf("refused credentials should stall: %v", a.Status.Conditions)
	}
	if msg := readyMessage(a.Status.Conditions); !strings.Contains(msg, srv.Addr) || containsKeyLine(msg, wrongKey) {
		t.Errorf("message %q: want the server named, no key", msg)
	}
	if ev := f.events("refused", cruisev1.ReasonAuthenticationFailed); len(ev) == 0 || ev[0].Type != "Warning" {
		t.Errorf("no Warning event: %v", ev)
	}
	if h := f.head("main"); h != start || a.Status.LastPushCommit != "" {
		t.Fatalf("head %s after refused credentials, want %s", h, start)
	}

	f.automation("web", "apps", nil)
	a = f.waitAuto("web", metav1.ConditionTrue, cruisev1.ReasonSucceeded)
	if h := f.head("main"); h == start || h != a.Status.LastPushCommit {
		t.Fatalf("head %s, last push %s", h, a.Status.LastPushCommit)
	}
	if got := f.file("main", "apps/deploy.yaml"); !strings.HasPrefix(got, "image: "+app2.String()) {
		t.Errorf("pushed over SSH: %q", got)
	}
}

// TestImageUpdateWrongPushCredentials: over HTTP, a wrong password in the
// automation's push Secret, or in the GitRepository's, fails the run
// without committing and without showing the password.
func TestImageUpdateWrongPushCredentials(t *testing.T) {
	f := newImgFixture(t, gittest.HTTPOptions{Username: "bot", Password: "right-horse"}, map[string]string{"apps/deploy.yaml": markedDeploy})
	start := f.head("main")
	f.secret("right", map[string][]byte{"username": []byte("bot"), "password": []byte("right-horse")})
	f.secret("wrong", map[string][]byte{"username": []byte("bot"), "password": []byte("battery-staple")})
	f.sourceNamed("env", func(s *cruisev1.GitRepositorySpec) {
		s.SecretRef = &cruisev1.LocalObjectReference{Name: "right"}
		s.PushSecretRef = &cruisev1.LocalObjectReference{Name: "wrong"}
	})
	f.sourceNamed("env-right", func(s *cruisev1.GitRepositorySpec) { s.SecretRef = &cruisev1.LocalObjectReference{Name: "right"} })
	f.policy("app", nil, app2)
	f.automation("repo-push-secret", "apps", nil)
	f.automation("own-push-secret", "apps", func(s *cruisev1.ImageUpdateAutomationSpec) {
		s.SourceRef.Name = "env-right"
		s.PushSecretRef = &cruisev1.LocalObjectReference{Name: "wrong"}
	})
	for _, name := range []string{"repo-push-secret", "own-push-secret"} {
		a := f.waitAuto(name, metav1.ConditionFalse, cruisev1.ReasonAuthenticationFailed)
		if msg := readyMessage(a.Status.Conditions); strings.Contains(msg, "battery-staple") || !strings.Contains(msg, "authentication") {
			t.Errorf("%s: message %q", name, msg)
		}
	}
	if h := f.head("main"); h != start {
		t.Fatalf("head %s: wrong credentials committed", h)
	}
}

// TestImageUpdateSigned signs with an SSH key ("identity") and with an
// OpenPGP key ("git.asc") from a Secret; git verify-commit accepts both.
func TestImageUpdateSigned(t *testing.T) {
	f := newImgFixture(t, gittest.HTTPOptions{}, map[string]string{
		"ssh/deploy.yaml": markedDeploy, "pgp/deploy.yaml": markedDeploy,
	})
	f.sourceNamed("env", nil)
	f.policy("app", nil, app2)
	sshKey, sshPub := gittest.NewKey(t, "sign-pass")
	f.secret("ssh-signing", map[string][]byte{"identity": sshKey, "passphrase": []byte("sign-pass")})
	pgpKey, pgpPub := newOpenPGPKey(t)
	f.secret("pgp-signing", map[string][]byte{"git.asc": pgpKey})
	for _, name := range []string{"ssh", "pgp"} {
		f.automation(name, name, func(s *cruisev1.ImageUpdateAutomationSpec) {
			s.Git.Commit.SigningKey = &cruisev1.SigningKey{SecretRef: cruisev1.LocalObjectReference{Name: name + "-signing"}}
		})
	}
	sshCommit := f.waitAuto("ssh", metav1.ConditionTrue, cruisev1.ReasonSucceeded).Status.LastPushCommit
	pgpCommit := f.waitAuto("pgp", metav1.ConditionTrue, cruisev1.ReasonSucceeded).Status.LastPushCommit

	allowed := filepath.Join(t.TempDir(), "allowed")
	line := "bot@example.com " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + "\n"
	if err := os.WriteFile(allowed, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("git", "-C", f.dir, "-c", "gpg.format=ssh", "-c", "gpg.ssh.allowedSignersFile="+allowed, "verify-commit", sshCommit)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("git verify-commit (SSH): %v\n%s", err, out)
	}

	home := t.TempDir()
	imp := exec.Command("gpg", "--batch", "--homedir", home, "--import")
	imp.Stdin = bytes.NewReader(pgpPub)
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("gpg --import (install gnupg): %v\n%s", err, out)
	}
	cmd = exec.Command("git", "-C", f.dir, "verify-commit", pgpCommit)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("git verify-commit (OpenPGP): %v\n%s", err, out)
	}
}

func newOpenPGPKey(t *testing.T) (private, public []byte) {
	t.Helper()
	ent, err := openpgp.NewEntity("cruise-bot", "", "bot@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var priv, pub bytes.Buffer
	w, _ := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err := ent.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w, _ = armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := ent.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return priv.Bytes(), pub.Bytes()
}

// containsKeyLine reports whether s shows a line of a PEM key's body.
func containsKeyLine(s string, key []byte) bool {
	for _, line := range strings.Split(string(key), "\n") {
		if len(line) > 16 && !strings.HasPrefix(line, "-----") && strings.Contains(s, line) {
			return true
		}
	}
	return false
}

// TestImageUpdateRefuses: bad input of every kind makes one clear Ready
// False naming the culprit, and nothing is committed.
func TestImageUpdateRefuses(t *testing.T) {
	f := newImgFixture(t, gittest.HTTPOptions{}, map[string]string{
		"apps/deploy.yaml":  markedDeploy,
		"broken/x.yaml":     "a: [ # {\"$imagepolicy\": \"apps:app\"}\n",
		"broken/other.yaml": markedDeploy,
	})
	start := f.head("main")
	f.sourceNamed("env", nil)
	f.sourceNamed("tagged", func(s *cruisev1.GitRepositorySpec) { s.Ref = &cruisev1.GitRef{Tag: "v1"} })
	f.secret("no-key", map[string][]byte{"other": []byte("x")})
	f.secret("garbage-key", map[string][]byte{"identity": []byte("not-a-key-but-a-secret-value")})
	f.secret("creds", map[string][]byte{"username": []byte("u"), "password": []byte("p")})
	f.policy("app", nil, app2)

	// Another namespace's GitRepositories: one that does not let this
	// namespace in, one that does but pushes with its own credentials.
	other := env.Namespace(t)
	for _, r := range []*cruisev1.GitRepository{
		{ObjectMeta: metav1.ObjectMeta{Name: "closed", Namespace: other}, Spec: cruisev1.GitRepositorySpec{URL: f.url}},
		{ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: other}, Spec: cruisev1.GitRepositorySpec{
			URL: f.url, SecretRef: &cruisev1.LocalObjectReference{Name: "creds"},
			AccessFrom: &cruisev1.AccessFrom{Namespaces: []string{f.ns}},
		}},
	} {
		if err := k8s.Create(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name   string
		path   string
		mutate func(*cruisev1.ImageUpdateAutomationSpec)
		reason string
		want   string
	}{
		{name: "path-escapes", path: "../apps", reason: cruisev1.ReasonUnsafePath, want: `spec.update.path "../apps" leaves the repository`},
		{name: "path-absolute", path: "/apps", reason: cruisev1.ReasonUnsafePath, want: `spec.update.path "/apps": give a path relative to the repository root`},
		{name: "message-template", path: "apps", reason: cruisev1.ReasonInvalidTemplate, want: "spec.git.commit.messageTemplate",
			mutate: func(s *cruisev1.ImageUpdateAutomationSpec) { s.Git.Commit.MessageTemplate = "{{ .Changes " }},
		{name: "message-template-field", path: "apps", reason: cruisev1.ReasonInvalidTemplate, want: "ChangeId",
			mutate: func(s *cruisev1.ImageUpdateAutomationSpec) { s.Git.Commit.MessageTemplate = "{{ .ChangeId }}" }},
		{name: "branch-template", path: "apps", reason: cruisev1.ReasonInvalidTemplate, want: "spec.git.push.branch",
			mutate: func(s *cruisev1.ImageUpdateAutomationSpec) {
				s.Git.Push = &cruisev1.GitPushSpec{Branch: "updates/{{ .ChangeID }}..{{ .AutomationName }}"}
			}},
		{name: "signing-secret-without-key", path: "apps", reason: cruisev1.ReasonInvalidSigningKey, want: "no-key has neither \"identity\"",
			mutate: func(s *cruisev1.ImageUpdateAutomationSpec) {
				s.Git.Commit.SigningKey = &cruisev1.SigningKey{SecretRef: cruisev1.LocalObjectReference{Name: "no-key"}}
			}},
		{name: "signing-key-garbage", path: "apps", reason: cruisev1.ReasonInvalidSigningKey, want: `garbage-key, key "identity"`,
			mutate: func(s *cruisev1.ImageUpdateAutomationSpec) {
				s.Git.Commit.SigningKey = &cruisev1.SigningKey{SecretRef: cruisev1.LocalObjectReference{Name: "garbage-key"}}
			}},
		{name: "source-follows-tag", path: "apps", reason: cruisev1.ReasonInvalidSource, want: "follows tag v1, not a branch",
			mutate: func(s *cruisev1.ImageUpdateAutomationSpec) { s.SourceRef.Name = "tagged" }},
		{name: "source-not-shared", path: "apps", reason: cruisev1.ReasonSourceNotAllowed, want: "does not allow namespace " + f.ns,
			mutate: func(s *cruisev1.ImageUpdateAutomationSpec) { s.SourceRef.Name, s.SourceRef.Namespace = "closed", other }},
		{name: "source-credentials-not-lent", path: "apps", reason: cruisev1.ReasonSourceNotAllowed, want: "its credentials push only for automations of " + other,
			mutate: func(s *cruisev1.ImageUpdateAutomationSpec) { s.SourceRef.Name, s.SourceRef.Namespace = "shared", other }},
		{name: "no-such-branch", path: "apps", reason: cruisev1.ReasonRefNotFound, want: `branch "nope" not found`,
			mutate: func(s *cruisev1.ImageUpdateAutomationSpec) {
				s.Git.Checkout = &cruisev1.GitCheckout{Ref: cruisev1.GitCheckoutRef{Branch: "nope"}}
			}},
		{name: "marked-file-broken", path: "broken", reason: cruisev1.ReasonValidationFailed, want: "broken/x.yaml"},
		{name: "bad-selector", path: "apps", reason: cruisev1.ReasonValidationFailed, want: "spec.policySelector",
			mutate: func(s *cruisev1.ImageUpdateAutomationSpec) {
				s.PolicySelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Near"}}}
			}},
	}
	for _, tt := range tests {
		f.automation(tt.name, tt.path, tt.mutate)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.with(t).waitAuto(tt.name, metav1.ConditionFalse, tt.reason)
			msg := readyMessage(a.Status.Conditions)
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("message %q: want one line saying %q", msg, tt.want)
			}
			if strings.Contains(msg, "not-a-key-but-a-secret-value") {
				t.Errorf("message shows a Secret's value: %q", msg)
			}
			if a.Status.LastPushCommit != "" {
				t.Errorf("pushed %s", a.Status.LastPushCommit)
			}
		})
	}
	if h := f.head("main"); h != start {
		t.Fatalf("head %s: bad input committed", h)
	}
	if refs := gitOut(t, f.dir, "for-each-ref", "--format=%(refname)"); strings.TrimSpace(refs) != "refs/heads/main" {
		t.Errorf("refs on the server: %q", refs)
	}
}

// TestImageUpdateCrossNamespaceSource: an automation may write to a
// GitRepository of another namespace that lets its namespace in
// (spec.accessFrom), pushing with a Secret of its own namespace.
func TestImageUpdateCrossNamespaceSource(t *testing.T) {
	f := newImgFixture(t, gittest.HTTPOptions{Username: "bot", Password: "pw"}, map[string]string{"apps/deploy.yaml": markedDeploy})
	start := f.head("main")
	creds := map[string][]byte{"username": []byte("bot"), "password": []byte("pw")}
	f.secret("push", creds)
	f.policy("app", nil, app2)
	other := env.Namespace(t)
	for _, obj := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: other}, Data: creds},
		&cruisev1.GitRepository{ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: other}, Spec: cruisev1.GitRepositorySpec{
			URL: f.url, Ref: &cruisev1.GitRef{Branch: "main"}, SecretRef: &cruisev1.LocalObjectReference{Name: "creds"},
			AccessFrom: &cruisev1.AccessFrom{Namespaces: []string{f.ns}},
		}},
	} {
		if err := k8s.Create(t.Context(), obj); err != nil {
			t.Fatal(err)
		}
	}
	f.automation("web", "apps", func(s *cruisev1.ImageUpdateAutomationSpec) {
		s.SourceRef.Name, s.SourceRef.Namespace = "shared", other
		s.PushSecretRef = &cruisev1.LocalObjectReference{Name: "push"}
	})
	a := f.waitAuto("web", metav1.ConditionTrue, cruisev1.ReasonSucceeded)
	if h := f.head("main"); h == start || h != a.Status.LastPushCommit {
		t.Fatalf("head %s, last push %s", h, a.Status.LastPushCommit)
	}
}
