package cli_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cruisegitops/cruise/api/v1alpha1"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/image-export/*.yaml from the current output")

// create image ... --export prints the manifest byte for byte as
// testdata/image-export/<case>.yaml holds it, without a cluster.
func TestCreateImageExport(t *testing.T) {
	t.Parallel()
	noCluster := []string{"--kubeconfig", "/nonexistent/kubeconfig", "--export"}
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"repository-minimal", []string{"create", "image", "repository", "web", "--image", "nginx"}},
		{"repository-every-flag", []string{"create", "image", "repository", "web", "-n", "apps",
			"--image", "registry.example.com:5000/team/web", "--interval", "30s", "--timeout", "2m",
			"--secret-ref", "registry-creds", "--cert-secret-ref", "registry-ca", "--insecure"}},
		{"policy-semver", []string{"create", "image", "policy", "web", "-n", "apps", "--image-ref", "web",
			"--select-semver", ">=1.0.0 <2.0.0"}},
		{"policy-numeric-filtered", []string{"create", "image", "policy", "web", "-n", "apps", "--image-ref", "images/web",
			"--select-numeric", "asc", "--filter-regex", `^main-[a-f0-9]+-(?P<ts>[0-9]+)$`, "--filter-extract", "$ts"}},
		{"policy-alphabetical", []string{"create", "image", "policies", "web", "--image-ref", "web", "--select-alpha", "desc"}},
		{"update-minimal", []string{"create", "image", "update", "web", "-n", "apps", "--source", "web", "--path", "./deploy/",
			"--author-name", "cruise", "--author-email", "cruise@example.com"}},
		{"update-every-flag", []string{"create", "image", "update", "web", "-n", "apps", "--source", "infra/web", "--path", ".",
			"--author-name", "Image Bot", "--author-email", "bot@example.com", "--checkout-branch", "main",
			"--push-branch", "image-updates/{{ .ChangeID }}", "--interval", "10s",
			"--commit-template", "Update images\n{{ range .Changes }}{{ .Image }}: {{ .Old }} -> {{ .New }}\n{{ end }}"}},
	} {
		t.Run(c.golden, func(t *testing.T) {
			t.Parallel()
			r := mustCruise(t, 0, append(c.args, noCluster...)...)
			golden := filepath.Join("testdata", "image-export", c.golden+".yaml")
			if *updateGolden {
				if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := readFile(t, golden)
			if r.stdout != want {
				t.Errorf("export differs from %s:\n--- got\n%s--- want\n%s", golden, r.stdout, want)
			}
		})
	}
}

// Bad input exits with 2 and one line naming the culprit, before any
// cluster is contacted.
func TestCreateImageBadInput(t *testing.T) {
	t.Parallel()
	noCluster := []string{"--kubeconfig", "/nonexistent/kubeconfig"}
	repo := []string{"create", "image", "repository", "web"}
	policy := []string{"create", "image", "policy", "web", "--image-ref", "web"}
	update := []string{"create", "image", "update", "web", "--source", "web", "--path", "deploy",
		"--author-name", "cruise", "--author-email", "cruise@example.com"}
	with := func(base []string, extra ...string) []string { return append(append([]string{}, base...), extra...) }
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "image"}, "cruise create image: say what to work on: policy or repository or update"},
		{[]string{"create", "image", "widget", "web"}, `cruise create image: unknown kind "widget"`},
		{[]string{"create", "image", "repository"}, "the NAME of the ImageRepository is missing"},
		{with(repo, "--image", "nginx", "--bogus"), "unknown flag: --bogus"},
		{repo, "--image is required"},
		{with(repo, "--image", "ghcr.io/org/web:1.2.3"), `invalid --image "ghcr.io/org/web:1.2.3": it names the tag "1.2.3"`},
		{with(repo, "--image", "nginx:latest"), `invalid --image "nginx:latest": it names the tag "latest"`},
		{with(repo, "--image", "ghcr.io/org/web@sha256:0123"), `invalid --image "ghcr.io/org/web@sha256:0123": it names the digest`},
		{with(repo, "--image", "https://ghcr.io/org/web"), `invalid --image "https://ghcr.io/org/web": give host[:port]/path without a scheme`},
		{with(repo, "--image", "ghcr.io/Org/Web"), `invalid --image "ghcr.io/Org/Web": repository can only contain`},
		{with(repo, "--image", "nginx", "--interval", "0s"), "invalid --interval 0s: must be positive"},
		{with(repo, "--image", "nginx", "--interval", "soon"), `invalid argument "soon" for "--interval" flag`},
		{with(repo, "--image", "nginx", "--timeout", "-1s"), "invalid --timeout -1s: must not be negative"},
		{with(repo, "--image", "nginx", "--secret-ref", "Not_A_Name"), `invalid --secret-ref "Not_A_Name"`},
		{with(repo, "--image", "nginx", "--cert-secret-ref", "a/b"), `invalid --cert-secret-ref "a/b"`},
		{[]string{"create", "image", "repository", "Web", "--image", "nginx"}, `invalid NAME "Web"`},

		{[]string{"create", "image", "policy", "web", "--select-semver", "1.x"}, "--image-ref is required"},
		{with(policy[:4], "--image-ref", "a/b/c", "--select-semver", "1.x"), `invalid --image-ref "a/b/c"`},
		{policy, "say how to choose a tag: give one of --select-semver, --select-numeric and --select-alpha"},
		{with(policy, "--select-semver", "1.x", "--select-numeric", "asc"), "--select-semver and --select-numeric cannot be combined"},
		{with(policy, "--select-numeric", "asc", "--select-alpha", "asc"), "--select-numeric and --select-alpha cannot be combined"},
		{with(policy, "--select-semver", "not a range"), `invalid --select-semver "not a range": semver range "not a range"`},
		{with(policy, "--select-numeric", "up"), `invalid --select-numeric "up": want asc or desc`},
		{with(policy, "--select-alpha", "ascending"), `invalid --select-alpha "ascending": want asc or desc`},
		{with(policy, "--select-alpha", "asc", "--filter-regex", "main-(["), `invalid --filter-regex "main-([": error parsing regexp`},
		{with(policy, "--select-alpha", "asc", "--filter-extract", "$ts"), `--filter-extract "$ts" needs --filter-regex`},
		{with(policy, "--select-numeric", "asc", "--filter-regex", "main-(?P<ts>[0-9]+)", "--filter-extract", "$time"),
			`invalid --filter-extract "$time": --filter-regex "main-(?P<ts>[0-9]+)" has no group time`},

		{[]string{"create", "image", "update", "web", "--path", "deploy", "--author-name", "a", "--author-email", "a@example.com"}, "--source is required"},
		{with(update[:4], "--source", "a/b/c", "--path", "deploy", "--author-name", "a", "--author-email", "a@example.com"), `invalid --source "a/b/c"`},
		{with(update[:6], "--author-name", "a", "--author-email", "a@example.com"), "--path is required"},
		{with(update[:6], "--path", "../other", "--author-name", "a", "--author-email", "a@example.com"), `invalid --path "../other"`},
		{with(update[:6], "--path", "/deploy", "--author-name", "a", "--author-email", "a@example.com"), `invalid --path "/deploy"`},
		{with(update[:8], "--author-email", "a@example.com"), "--author-name is required"},
		{update[:10], "--author-email is required"},
		{with(update[:10], "--author-email", "Bot <bot@example.com>"), `invalid --author-email "Bot <bot@example.com>"`},
		{with(update[:10], "--author-email", "bot"), `invalid --author-email "bot"`},
		{with(update, "--interval", "0s"), "invalid --interval 0s: must be positive"},
		{with(update, "--checkout-branch", "main..x"), `invalid --checkout-branch "main..x": not a valid branch name`},
		{with(update, "--push-branch", "a b"), `invalid --push-branch "a b": not a valid branch name`},
		{with(update, "--push-branch", "updates/{{ .Nope }}"), `invalid --push-branch "updates/{{ .Nope }}"`},
		{with(update, "--commit-template", "{{ .Changes "), "invalid --commit-template"},
	} {
		r := mustCruise(t, 2, append(c.args, noCluster...)...)
		if !strings.HasPrefix(r.stderr, "Error: ") || !strings.Contains(r.stderr, c.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("cruise %s: stderr %q, want one Error line with %q", strings.Join(c.args, " "), r.stderr, c.want)
		}
		if r.stdout != "" {
			t.Errorf("cruise %s: printed %q", strings.Join(c.args, " "), r.stdout)
		}
	}
}

// Create applies the three kinds; again with the same flags changes
// nothing, with other flags updates; bad input against a cluster changes
// nothing there either.
func TestCreateImageObjects(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	ctx := t.Context()

	r := k.run(t, 0, "create", "image", "repository", "web", "--image", "ghcr.io/org/web", "--secret-ref", "creds")
	wantLines(t, r.stdout, "✓ ImageRepository/"+k.ns+"/web created")
	r = k.run(t, 0, "create", "image", "repository", "web", "--image", "ghcr.io/org/web", "--secret-ref", "creds")
	wantLines(t, r.stdout, "✓ ImageRepository/"+k.ns+"/web unchanged")
	r = k.run(t, 0, "create", "image", "repository", "web", "--image", "ghcr.io/org/web", "--interval", "20s")
	wantLines(t, r.stdout, "✓ ImageRepository/"+k.ns+"/web updated")
	repo := &v1alpha1.ImageRepository{}
	must(t, k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: "web"}, repo))
	if repo.Spec.Image != "ghcr.io/org/web" || repo.Spec.Interval.Duration != 20*time.Second || repo.Spec.SecretRef != nil {
		t.Errorf("ImageRepository spec = %+v, want the image, 20s and no secretRef any more", repo.Spec)
	}

	r = k.run(t, 0, "create", "image", "policy", "web", "--image-ref", "web", "--select-semver", "^1.0")
	wantLines(t, r.stdout, "✓ ImagePolicy/"+k.ns+"/web created")
	r = k.run(t, 0, "create", "image", "policy", "web", "--image-ref", "web", "--select-numeric", "desc",
		"--filter-regex", "^b-(?P<n>[0-9]+)$", "--filter-extract", "$n")
	wantLines(t, r.stdout, "✓ ImagePolicy/"+k.ns+"/web updated")
	policy := &v1alpha1.ImagePolicy{}
	must(t, k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: "web"}, policy))
	if p := policy.Spec.Policy; p.SemVer != nil || p.Numerical == nil || p.Numerical.Order != "desc" ||
		policy.Spec.FilterTags == nil || policy.Spec.FilterTags.Extract != "$n" || policy.Spec.ImageRepositoryRef.Name != "web" {
		t.Errorf("ImagePolicy spec = %+v, want numerical desc only, filtered, on web", policy.Spec)
	}

	r = k.run(t, 0, "create", "image", "update", "web", "--source", "web", "--path", "deploy",
		"--author-name", "cruise", "--author-email", "cruise@example.com", "--push-branch", "updates/{{ .ChangeID }}")
	wantLines(t, r.stdout, "✓ ImageUpdateAutomation/"+k.ns+"/web created")
	auto := &v1alpha1.ImageUpdateAutomation{}
	must(t, k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: "web"}, auto))
	if s := auto.Spec; s.SourceRef.Name != "web" || s.SourceRef.Kind != "GitRepository" || s.Update == nil || s.Update.Path != "deploy" ||
		s.Git.Commit.Author.Email != "cruise@example.com" || s.Git.Push == nil || s.Git.Push.Branch != "updates/{{ .ChangeID }}" ||
		s.Interval.Duration != time.Minute {
		t.Errorf("ImageUpdateAutomation spec = %+v", s)
	}

	// Bad input with a reachable cluster: exit 2, nothing created.
	k.run(t, 2, "create", "image", "policy", "other", "--image-ref", "web", "--select-semver", "not a range")
	k.run(t, 2, "create", "image", "repository", "other", "--image", "nginx:1.27")
	k.run(t, 2, "create", "image", "update", "other", "--source", "web", "--path", "deploy", "--author-name", "cruise")
	for _, obj := range []client.Object{&v1alpha1.ImagePolicy{}, &v1alpha1.ImageRepository{}, &v1alpha1.ImageUpdateAutomation{}} {
		if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: "other"}, obj); err == nil {
			t.Errorf("bad input created %T other", obj)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
