package e2e_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	cruisev1 "github.com/cruisegitops/cruise/api/v1alpha1"
	"github.com/cruisegitops/cruise/internal/devcluster/clustertest"
	"github.com/cruisegitops/cruise/internal/image/registrytest"
	"github.com/cruisegitops/cruise/internal/source/gittest"
)

// notExported are the series config/monitoring reads that no exporter
// serves: Prometheus makes up{job,instance} itself for every target.
var notExported = []string{"up"}

// TestMonitoringMetricsExported runs `cruise controller` with a working
// and a failing GitRepository, a working and a failing Application, an
// ImageRepository and a SealedSecret, scrapes its /metrics, and checks
// that every metric config/monitoring's alerts and dashboard name is
// there: they need no exporter besides cruise (no kube-state-metrics).
func TestMonitoringMetricsExported(t *testing.T) {
	names := monitoringMetricNames(t)
	if len(names) < 20 {
		t.Fatalf("found only %d metric names in config/monitoring: %v", len(names), names)
	}

	ns := env.Namespace(t)
	root := t.TempDir()
	repo := gittest.NewRepo(t, filepath.Join(root, "env.git"), true)
	repo.Commit("first", map[string]string{
		"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  value: one\n",
		"bad/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n",
	})
	srv := gittest.ServeHTTP(t, root, gittest.HTTPOptions{})
	reg := registrytest.Start(t, registrytest.Options{})
	reg.Push("team/web", "1.0.0", registrytest.Image(t, time.Now(), "team/web"))
	proc := startController(t)

	hour := metav1.Duration{Duration: time.Hour}
	objs := []client.Object{
		&cruisev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Name: "env", Namespace: ns},
			Spec:       cruisev1.GitRepositorySpec{URL: srv.RepoURL("env.git"), Ref: &cruisev1.GitRef{Branch: "main"}, Interval: hour},
		},
		&cruisev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Name: "locked", Namespace: ns},
			Spec: cruisev1.GitRepositorySpec{
				URL: srv.RepoURL("env.git"), Ref: &cruisev1.GitRef{Branch: "main"}, Interval: hour,
				SecretRef: &cruisev1.LocalObjectReference{Name: "no-such-secret"},
			},
		},
		&cruisev1.Application{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
			Spec: cruisev1.ApplicationSpec{
				SourceRef: cruisev1.SourceReference{Kind: "GitRepository", Name: "env"}, Path: "app", Prune: true, Interval: hour,
			},
		},
		&cruisev1.Application{
			ObjectMeta: metav1.ObjectMeta{Name: "broken", Namespace: ns},
			Spec: cruisev1.ApplicationSpec{
				SourceRef: cruisev1.SourceReference{Kind: "GitRepository", Name: "env"}, Path: "bad", Prune: true, Interval: hour,
			},
		},
		&cruisev1.ImageRepository{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
			Spec:       cruisev1.ImageRepositorySpec{Image: reg.Host() + "/team/web", Insecure: true, Interval: hour},
		},
	}
	for _, o := range objs {
		if err := k8s.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}
	sealed := sealedSecret(t, ns, "db", map[string]string{"password": "pw"}, clusterRecipient(t, k8s))
	if err := k8s.Create(t.Context(), sealed); err != nil {
		t.Fatal(err)
	}

	var exported map[string]bool
	clustertest.Eventually(t, 2*time.Minute, func() (bool, error) {
		var err error
		if exported, err = scrapeNames(proc.metrics); err != nil {
			return false, err
		}
		var missing []string
		for _, n := range names {
			if !exported[n] && !slices.Contains(notExported, n) {
				missing = append(missing, n)
			}
		}
		return len(missing) == 0, fmt.Errorf("not exported by the controller: %v", missing)
	})
	for _, n := range notExported {
		if exported[n] {
			t.Errorf("%s is exported by the controller: drop it from notExported", n)
		}
	}
	t.Logf("%d metric names in config/monitoring, all exported (of %d series names scraped): %v", len(names), len(exported), names)
}

// scrapeNames returns the series names a metrics endpoint serves
// (histograms as their _bucket, _sum and _count series).
func scrapeNames(url string) (map[string]bool, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names, sc.Err()
}

// monitoringMetricNames returns the metric names config/monitoring's
// alert expressions and dashboard queries (panels and variables) read.
func monitoringMetricNames(t *testing.T) []string {
	t.Helper()
	var exprs []string
	data, err := os.ReadFile("../../config/monitoring/prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Expr string `json:"expr"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &rule); err != nil {
		t.Fatal(err)
	}
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	data, err = os.ReadFile("../../config/monitoring/cruise-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	for _, p := range dash.Panels {
		for _, q := range p.Targets {
			exprs = append(exprs, q.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		// A variable's query is a string or {"query": "..."}.
		var q struct {
			Query string `json:"query"`
		}
		if json.Unmarshal(v.Query, &q) != nil {
			_ = json.Unmarshal(v.Query, &q.Query)
		}
		if m := labelValues.FindStringSubmatch(q.Query); m != nil {
			exprs = append(exprs, m[1])
		}
	}
	seen := map[string]bool{}
	var names []string
	for _, e := range exprs {
		for _, n := range metricNames(e) {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return names
}

// labelValues is Grafana's label_values(metric, label) variable query.
var labelValues = regexp.MustCompile(`^\s*label_values\(\s*([^,)]+),`)

var (
	promqlStrings = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promqlBraces  = regexp.MustCompile(`\{[^}]*\}`)
	promqlRanges  = regexp.MustCompile(`\[[^\]]*\]`)
	promqlLabels  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlIdent   = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promqlWords   = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
		"group_left", "group_right", "inf", "nan", "atan2"}
)

// metricNames returns the metric names a PromQL expression selects: the
// identifiers left once strings, label matchers, ranges and grouping
// label lists are removed that are not keywords, not parts of numbers or
// durations, and not called (functions and aggregations).
func metricNames(expr string) []string {
	e := promqlStrings.ReplaceAllString(expr, `""`)
	e = promqlBraces.ReplaceAllString(e, " ")
	e = promqlRanges.ReplaceAllString(e, " ")
	e = promqlLabels.ReplaceAllString(e, " ")
	var names []string
	for _, loc := range promqlIdent.FindAllStringIndex(e, -1) {
		word := e[loc[0]:loc[1]]
		if loc[0] > 0 && strings.ContainsAny(e[loc[0]-1:loc[0]], "0123456789.$") {
			continue // 1e3, 15m, $variable
		}
		if rest := strings.TrimLeft(e[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue
		}
		if slices.Contains(promqlWords, strings.ToLower(word)) || slices.Contains(names, word) {
			continue
		}
		names = append(names, word)
	}
	return names
}

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`absent(up{job="cruise-metrics"} == 1)`, []string{"up"}},
		{`sum by (controller) (rate(controller_runtime_reconcile_errors_total{job="a"}[10m])) * 60 > 1`,
			[]string{"controller_runtime_reconcile_errors_total"}},
		{`max by (namespace, name) (time() - (a_since > 0)) > 15 * 60 unless on (namespace, name) max by (namespace, name) (a_suspended) == 1`,
			[]string{"a_since", "a_suspended"}},
		{`histogram_quantile(0.99, sum by (le, name) (rate(x_bucket{l="{not a name}"}[$__rate_interval])))`, []string{"x_bucket"}},
		{`time() - max(k > 0) > max(i > 0) + 86400`, []string{"k", "i"}},
		{`a / ignoring(pod) group_left(reason) b offset 1h and bool c`, []string{"a", "b", "c"}},
		{`count(x == 0) or vector(1e3)`, []string{"x"}},
		{`x * on(namespace, name) group_left (reason) max by (namespace, name, reason) (y{type="Ready"})`, []string{"x", "y"}},
		{`sum(rate(ns:recorded:rate5m[5m] @ 100))`, []string{"ns:recorded:rate5m"}},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %v, want %v", tc.expr, got, tc.want)
		}
	}
}

// TestMonitoringAlertsFireInPrometheus runs config/monitoring's rules in a
// real Prometheus (Debian's 2.42, as make test installs it) scraping a
// running controller the way the ServiceMonitor does (job cruise-metrics,
// honor_labels), with every duration cut to seconds: a failing Application
// and a failing GitRepository fire, with their reason in the description;
// a Ready one and a suspended one do not; killing the controller fires
// CruiseControllerDown.
func TestMonitoringAlertsFireInPrometheus(t *testing.T) {
	prometheus := toolBinary(t, "prometheus")
	ns := env.Namespace(t)
	root := t.TempDir()
	repo := gittest.NewRepo(t, filepath.Join(root, "env.git"), true)
	repo.Commit("first", map[string]string{
		"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  value: one\n",
		"bad/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n",
	})
	srv := gittest.ServeHTTP(t, root, gittest.HTTPOptions{})
	proc := startController(t)

	hour := metav1.Duration{Duration: time.Hour}
	app := func(name, path string, suspend bool) *cruisev1.Application {
		return &cruisev1.Application{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: cruisev1.ApplicationSpec{
				SourceRef: cruisev1.SourceReference{Kind: "GitRepository", Name: "env"}, Path: path, Interval: hour, Suspend: suspend,
			},
		}
	}
	for _, o := range []client.Object{
		&cruisev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Name: "env", Namespace: ns},
			Spec:       cruisev1.GitRepositorySpec{URL: srv.RepoURL("env.git"), Ref: &cruisev1.GitRef{Branch: "main"}, Interval: hour},
		},
		&cruisev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Name: "locked", Namespace: ns},
			Spec: cruisev1.GitRepositorySpec{
				URL: srv.RepoURL("env.git"), Ref: &cruisev1.GitRef{Branch: "main"}, Interval: hour,
				SecretRef: &cruisev1.LocalObjectReference{Name: "no-such-secret"},
			},
		},
		app("web", "app", false), app("broken", "bad", false), app("paused", "bad", true),
	} {
		if err := k8s.Create(t.Context(), o); err != nil {
			t.Fatal(err)
		}
	}

	prom := startPrometheus(t, prometheus, strings.TrimSuffix(strings.TrimPrefix(proc.metrics, "http://"), "/metrics"))
	type alert struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		State       string            `json:"state"`
	}
	firing := func() (map[string]alert, error) {
		resp, err := http.Get(prom + "/api/v1/alerts")
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var body struct {
			Data struct {
				Alerts []alert `json:"alerts"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return nil, err
		}
		out := map[string]alert{}
		for _, a := range body.Data.Alerts {
			if a.State == "firing" && (a.Labels["namespace"] == ns || a.Labels["namespace"] == "") {
				out[a.Labels["alertname"]+" "+a.Labels["name"]] = a
			}
		}
		return out, nil
	}
	var alerts map[string]alert
	clustertest.Eventually(t, 2*time.Minute, func() (bool, error) {
		var err error
		if alerts, err = firing(); err != nil {
			return false, err
		}
		_, app := alerts["CruiseApplicationNotReady broken"]
		_, git := alerts["CruiseGitFetchFailing locked"]
		// Until Prometheus has scraped the controller (a loaded machine
		// may start it slowly), "no controller" is true and may fire.
		_, down := alerts["CruiseControllerDown "]
		return app && git && !down, fmt.Errorf("firing: %v", keys(alerts))
	})
	for key, reason := range map[string]string{
		"CruiseApplicationNotReady broken": cruisev1.ReasonRenderFailed,
		"CruiseGitFetchFailing locked":     cruisev1.ReasonSecretNotFound,
	} {
		if d := alerts[key].Annotations["description"]; !strings.Contains(d, "(reason "+reason+")") {
			t.Errorf("%s: description %q does not give the reason %s", key, d, reason)
		}
	}
	// paused was created not Ready together with broken: had it not been
	// left out for its suspension, it would fire by now too.
	for _, quiet := range []string{
		"CruiseApplicationNotReady web", "CruiseApplicationNotReady paused", "CruiseGitFetchFailing env", "CruiseControllerDown ",
	} {
		if _, ok := alerts[quiet]; ok {
			t.Errorf("%s fires: %v", quiet, alerts[quiet])
		}
	}

	proc.kill()
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		alerts, err := firing()
		if err != nil {
			return false, err
		}
		_, down := alerts["CruiseControllerDown "]
		return down, fmt.Errorf("firing: %v", keys(alerts))
	})
}

// toolBinary finds bin/tools/name (make test installs it).
func toolBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs("../../bin/tools/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s missing: run `make test`, which installs it from Debian's prometheus package (hack/install-prometheus.sh): %v", p, err)
	}
	return p
}

// fastDurations cuts the rules' "N * 60" thresholds to 3 seconds and
// their "for" durations to none, so that they fire in a test.
var fastDurations = regexp.MustCompile(`\b\d+ \* 60\b`)

// startPrometheus runs Prometheus with config/monitoring's rules (sped up,
// see fastDurations), scraping target (host:port) every second as the
// ServiceMonitor's job would; it returns its base URL and is stopped when
// the test ends.
func startPrometheus(t *testing.T, binary, target string) string {
	t.Helper()
	data, err := os.ReadFile("../../config/monitoring/prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pr struct {
		Spec struct {
			Groups []map[string]any `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &pr); err != nil {
		t.Fatal(err)
	}
	for _, g := range pr.Spec.Groups {
		for _, r := range g["rules"].([]any) {
			r := r.(map[string]any)
			r["expr"] = fastDurations.ReplaceAllString(r["expr"].(string), "3")
			delete(r, "for")
			if r["alert"] == "CruiseControllerDown" {
				// One scrape of a loaded machine may take longer than the
				// 1 s interval allows: only a controller gone for several
				// scrapes is down, as with the real rule's 5m.
				r["for"] = "5s"
			}
		}
	}
	dir := t.TempDir()
	rules, err := yaml.Marshal(pr.Spec)
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	config := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [rules.yaml]
scrape_configs:
- job_name: cruise-metrics
  honor_labels: true
  static_configs: [{targets: [%q]}]
`, target)
	for name, content := range map[string][]byte{"rules.yaml": rules, "prometheus.yml": []byte(config)} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(binary, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--log.level=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("prometheus:\n%s", logs.String())
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	clustertest.Eventually(t, time.Minute, func() (bool, error) {
		resp, err := http.Get(url + "/-/ready")
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("prometheus: %s", resp.Status)
	})
	return url
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
