package cli_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// --export prints a clean manifest, for Git: no status, no server
// metadata, no empty fields; it needs no cluster.
func TestCreateExport(t *testing.T) {
	t.Parallel()
	noCluster := []string{"--kubeconfig", "/nonexistent/kubeconfig"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"source with branch", []string{"create", "source", "git", "web", "-n", "infra",
			"--url", "https://github.com/org/web.git", "--branch", "main", "--secret-ref", "git-creds",
			"--access-from", "apps,team-a"}, `
apiVersion: cruise.dev/v1alpha1
kind: GitRepository
metadata:
  name: web
  namespace: infra
spec:
  accessFrom:
    namespaces:
    - apps
    - team-a
  interval: 1m0s
  ref:
    branch: main
  secretRef:
    name: git-creds
  url: https://github.com/org/web.git
`},
		{"source following the default branch, namespace default", []string{"create", "source", "git", "web",
			"--url", "git@github.com:org/web.git", "--interval", "5m", "--timeout", "90s"}, `
apiVersion: cruise.dev/v1alpha1
kind: GitRepository
metadata:
  name: web
  namespace: default
spec:
  interval: 5m0s
  timeout: 1m30s
  url: git@github.com:org/web.git
`},
		{"app with every flag", []string{"create", "app", "web", "-n", "apps", "--source", "infra/web",
			"--path", "deploy/prod", "--prune=false", "--self-heal=false", "--target-namespace", "web",
			"--service-account", "deployer", "--depends-on", "db", "--depends-on", "infra/net", "--timeout", "2m"}, `
apiVersion: cruise.dev/v1alpha1
kind: Application
metadata:
  name: web
  namespace: apps
spec:
  dependsOn:
  - name: db
  - name: net
    namespace: infra
  interval: 10m0s
  path: deploy/prod
  prune: false
  selfHeal: false
  serviceAccountName: deployer
  sourceRef:
    kind: GitRepository
    name: web
    namespace: infra
  targetNamespace: web
  timeout: 2m0s
  wait: true
`},
		{"app of a repository chart", []string{"create", "app", "web", "-n", "apps", "--chart", "podinfo",
			"--repo", "oci://ghcr.io/stefanprodan/charts", "--version", "^6", "--chart-secret", "ghcr",
			"--release-name", "site", "--values-from", "ConfigMap/web-values", "--values-from", "Secret/web-secrets:prod.yaml",
			"--target-namespace", "web"}, `
apiVersion: cruise.dev/v1alpha1
kind: Application
metadata:
  name: web
  namespace: apps
spec:
  chart:
    name: podinfo
    repoURL: oci://ghcr.io/stefanprodan/charts
    secretRef:
      name: ghcr
    version: ^6
  helm:
    releaseName: site
    valuesFrom:
    - kind: ConfigMap
      name: web-values
    - key: prod.yaml
      kind: Secret
      name: web-secrets
  interval: 10m0s
  prune: true
  selfHeal: true
  targetNamespace: web
  wait: true
`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustCruise(t, 0, append(c.args, append(noCluster, "--export")...)...)
			if !strings.HasPrefix(r.stdout, "---\n") {
				t.Errorf("export does not start a YAML document:\n%s", r.stdout)
			}
			var got, want map[string]any
			if err := yaml.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("export is not YAML: %v\n%s", err, r.stdout)
			}
			if err := yaml.Unmarshal([]byte(c.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("export:\n%s\nwant:%s", r.stdout, c.want)
			}
		})
	}
}

// Create applies; running it again with the same flags changes nothing,
// with other flags updates, and fields no longer given return to their
// defaults.
func TestCreateCreatesAndUpdates(t *testing.T) {
	t.Parallel()
	k := newKubeTest(t)
	src := []string{"create", "source", "git", "web", "--url", "https://git.example.com/web.git"}

	r := k.run(t, 0, append(src, "--tag", "v1.0.0")...)
	wantLines(t, r.stdout, "✓ GitRepository/"+k.ns+"/web created")
	r = k.run(t, 0, append(src, "--tag", "v1.0.0")...)
	wantLines(t, r.stdout, "✓ GitRepository/"+k.ns+"/web unchanged")
	r = k.run(t, 0, append(src, "--branch", "main", "--interval", "30s")...)
	wantLines(t, r.stdout, "✓ GitRepository/"+k.ns+"/web updated")
	repo := k.source(t, "web")
	if ref := repo.Spec.Ref; ref == nil || ref.Branch != "main" || ref.Tag != "" {
		t.Errorf("spec.ref = %+v, want branch main only", ref)
	}
	if repo.Spec.Interval.Duration != 30*time.Second {
		t.Errorf("spec.interval = %s, want 30s", repo.Spec.Interval.Duration)
	}

	app := []string{"create", "app", "web", "--source", "web", "--path", "deploy"}
	r = k.run(t, 0, append(app, "--self-heal=false", "--prune=false", "--depends-on", "db")...)
	wantLines(t, r.stdout, "✓ Application/"+k.ns+"/web created")
	got := k.app(t, "web")
	if got.SelfHealEnabled() || got.Spec.Prune || len(got.Spec.DependsOn) != 1 || got.Spec.Path != "deploy" ||
		got.Spec.SourceRef.Name != "web" || got.Spec.SourceRef.Kind != "GitRepository" {
		t.Errorf("spec = %+v, want self-heal and prune off, depending on db, path deploy, source web", got.Spec)
	}
	r = k.run(t, 0, app...)
	wantLines(t, r.stdout, "✓ Application/"+k.ns+"/web updated")
	got = k.app(t, "web")
	if !got.SelfHealEnabled() || !got.Spec.Prune || len(got.Spec.DependsOn) != 0 {
		t.Errorf("spec = %+v, want self-heal and prune on again, no dependencies", got.Spec)
	}
	if mf := got.GetManagedFields(); len(mf) == 0 || mf[0].Manager != "cruise-cli" {
		t.Errorf("managed fields %+v, want the manager cruise-cli", mf)
	}
}

// TestCreateChartAppRefusals: the chart flags' bad combinations exit 2
// naming the flag.
func TestCreateChartAppRefusals(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--chart", "podinfo", "--repo", "oci://r/charts", "--source", "web"}, "--chart and --source exclude each other"},
		{[]string{"--chart", "podinfo", "--repo", "ftp://r/charts"}, `invalid --repo "ftp://r/charts"`},
		{[]string{"--chart", "podinfo"}, `invalid --repo ""`},
		{[]string{"--source", "web", "--repo", "oci://r/charts"}, "go with --chart"},
		{[]string{"--chart", "podinfo", "--repo", "oci://r/charts", "--values-from", "Deployment/x"}, `invalid --values-from "Deployment/x"`},
	} {
		args := append(append([]string{"create", "app", "web"}, c.args...), "--kubeconfig", "/nonexistent/kubeconfig", "--export")
		r := mustCruise(t, 2, args...)
		if !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("%v: stderr %q, want %q and no output", c.args, r.stderr, c.want)
		}
	}
}
