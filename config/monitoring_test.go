package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The tests of config/monitoring: the alerting rules load in Prometheus
// 2.42's promtool (Debian 12's) and behave as their unit tests say, every
// dashboard query parses, and the kustomization builds into what
// Prometheus Operator and Grafana's sidecar read, scraping the Service the
// install creates. That every metric they name is exported is checked
// against a running controller in internal/e2e (monitoring_test.go).

type prometheusRule struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec ruleSpec `json:"spec"`
}

type ruleSpec struct {
	Groups []ruleGroup `json:"groups"`
}

type ruleGroup struct {
	Name  string `json:"name"`
	Rules []rule `json:"rules"`
}

type rule struct {
	Alert       string            `json:"alert,omitempty"`
	Record      string            `json:"record,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func readRules(t *testing.T) prometheusRule {
	t.Helper()
	data, err := os.ReadFile("monitoring/prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var r prometheusRule
	if err := yaml.UnmarshalStrict(data, &r); err != nil {
		t.Fatalf("monitoring/prometheusrule.yaml: %v", err)
	}
	return r
}

// promtool is bin/tools/promtool, which `make test` installs.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../bin/tools/promtool")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s missing: run `make test`, which installs it from Debian's prometheus package (hack/install-prometheus.sh): %v", p, err)
	}
	return p
}

// writeRules writes the rule groups as a plain Prometheus rules file.
func writeRules(t *testing.T, dir string, spec ruleSpec) string {
	t.Helper()
	data, err := yaml.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runPromtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func countRules(spec ruleSpec) (n int) {
	for _, g := range spec.Groups {
		n += len(g.Rules)
	}
	return n
}

// TestMonitoringRulesLoad: the PrometheusRule's groups pass `promtool
// check rules`, every one of them.
func TestMonitoringRulesLoad(t *testing.T) {
	r := readRules(t)
	dir := t.TempDir()
	writeRules(t, dir, r.Spec)
	out := runPromtool(t, dir, "check", "rules", "rules.yaml")
	if want := fmt.Sprintf("SUCCESS: %d rules found", countRules(r.Spec)); !strings.Contains(out, want) {
		t.Errorf("promtool check rules: want %q in\n%s", want, out)
	}
}

// TestMonitoringRulesUnitTests runs testdata/monitoring/rules_test.yaml:
// each alert fires, with its annotations, on the series it is about and
// not on the ones it should leave alone (a suspended Application, a
// standby replica, another exporter's work queue).
func TestMonitoringRulesUnitTests(t *testing.T) {
	r := readRules(t)
	dir := t.TempDir()
	writeRules(t, dir, r.Spec)
	tests, err := os.ReadFile("testdata/monitoring/rules_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules_test.yaml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	out := runPromtool(t, dir, "test", "rules", "rules_test.yaml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules:\n%s", out)
	}
	// Every alert is exercised firing.
	for _, g := range r.Spec.Groups {
		for _, rl := range g.Rules {
			if rl.Alert != "" && !regexp.MustCompile(`alertname: `+rl.Alert+`\n\s+exp_alerts:\n\s+- exp_labels`).Match(tests) {
				t.Errorf("no unit test in testdata/monitoring/rules_test.yaml has %s firing", rl.Alert)
			}
		}
	}
}

// TestMonitoringAlerts: the alerts the issue asks for are there, each
// with a severity and the annotations a person on call reads.
func TestMonitoringAlerts(t *testing.T) {
	r := readRules(t)
	if r.APIVersion != "monitoring.coreos.com/v1" || r.Kind != "PrometheusRule" || r.Metadata.Namespace != "cruise-system" {
		t.Errorf("%s %s in namespace %q, want a monitoring.coreos.com/v1 PrometheusRule in cruise-system", r.APIVersion, r.Kind, r.Metadata.Namespace)
	}
	var alerts []string
	for _, g := range r.Spec.Groups {
		for _, rl := range g.Rules {
			if rl.Alert == "" {
				continue
			}
			alerts = append(alerts, rl.Alert)
			if s := rl.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q, want warning or critical", rl.Alert, s)
			}
			for _, a := range []string{"summary", "description", "runbook"} {
				if strings.TrimSpace(rl.Annotations[a]) == "" {
					t.Errorf("%s has no %s annotation", rl.Alert, a)
				}
			}
		}
	}
	for _, want := range []string{
		"CruiseControllerDown", "CruiseReconcileErrorsRising", "CruiseReconcileFailuresRising",
		"CruiseApplicationNotReady", "CruiseGitFetchFailing", "CruiseQueueDepthHigh",
		"CruiseSealingKeyRotationStalled", "CruiseStorageNearLimit",
	} {
		if !slices.Contains(alerts, want) {
			t.Errorf("alert %s missing; have %v", want, alerts)
		}
	}
}

// dashboard is the part of Grafana's dashboard model the tests read.
type dashboard struct {
	Title  string `json:"title"`
	UID    string `json:"uid"`
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func readDashboard(t *testing.T) ([]byte, dashboard) {
	t.Helper()
	data, err := os.ReadFile("monitoring/cruise-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("monitoring/cruise-dashboard.json: %v", err)
	}
	return data, d
}

// grafanaVars are the dashboard's variables, as Grafana substitutes them.
var grafanaVars = strings.NewReplacer("$__rate_interval", "2m", "$namespace", ".*")

// TestMonitoringDashboardQueries: every panel query parses in promtool
// (as a recording rule), and the dashboard covers what the issue lists.
func TestMonitoringDashboardQueries(t *testing.T) {
	_, d := readDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard without uid or title")
	}
	var group ruleGroup
	group.Name = "dashboard"
	var titles []string
	for _, p := range d.Panels {
		titles = append(titles, p.Title)
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			group.Rules = append(group.Rules, rule{
				Record: fmt.Sprintf("dashboard:query_%d", len(group.Rules)), Expr: grafanaVars.Replace(q.Expr),
			})
		}
	}
	dir := t.TempDir()
	writeRules(t, dir, ruleSpec{Groups: []ruleGroup{group}})
	out := runPromtool(t, dir, "check", "rules", "rules.yaml")
	if want := fmt.Sprintf("SUCCESS: %d rules found", len(group.Rules)); !strings.Contains(out, want) {
		t.Errorf("promtool check rules on the dashboard's queries: want %q in\n%s", want, out)
	}
	for _, row := range []string{"Reconciles", "Applications", "Git", "Storage", "Sealed secrets", "Image scans"} {
		if !slices.Contains(titles, row) {
			t.Errorf("dashboard has no row %q: %v", row, titles)
		}
	}
}

// TestMonitoringKustomization builds config/monitoring: a ServiceMonitor
// that selects the controller's metrics Service (config/manager) by a port
// it has, the PrometheusRule whose job selector is that Service's name,
// and the dashboard as a ConfigMap for Grafana's sidecar holding the raw
// JSON file.
func TestMonitoringKustomization(t *testing.T) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), "monitoring")
	if err != nil {
		t.Fatalf("kustomize build config/monitoring: %v", err)
	}
	objs := map[string]map[string]any{}
	for _, r := range m.Resources() {
		o, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		if ns := r.GetNamespace(); ns != "cruise-system" {
			t.Errorf("%s/%s in namespace %q, want cruise-system", r.GetKind(), r.GetName(), ns)
		}
		objs[r.GetKind()+"/"+r.GetName()] = o
	}
	for _, want := range []string{"ServiceMonitor/cruise-controller", "PrometheusRule/cruise", "ConfigMap/cruise-dashboard"} {
		if objs[want] == nil {
			t.Errorf("kustomize build config/monitoring has no %s; has %v", want, keys(objs))
		}
	}

	dash, _ := readDashboard(t)
	cm := objs["ConfigMap/cruise-dashboard"]
	if got := dig(cm, "metadata", "labels", "grafana_dashboard"); got != "1" {
		t.Errorf("dashboard ConfigMap label grafana_dashboard = %v, want \"1\"", got)
	}
	if got, _ := dig(cm, "data", "cruise-dashboard.json").(string); !bytes.Equal([]byte(got), dash) {
		t.Errorf("dashboard ConfigMap does not hold monitoring/cruise-dashboard.json as it is")
	}

	// The Service the ServiceMonitor must find.
	svc := metricsService(t)
	sm := objs["ServiceMonitor/cruise-controller"]
	selector, _ := dig(sm, "spec", "selector", "matchLabels").(map[string]any)
	if len(selector) == 0 {
		t.Fatalf("ServiceMonitor without spec.selector.matchLabels")
	}
	for k, v := range selector {
		if svc.Metadata.Labels[k] != v {
			t.Errorf("ServiceMonitor selects %s=%v; Service %s has %q", k, v, svc.Metadata.Name, svc.Metadata.Labels[k])
		}
	}
	if ns, _ := dig(sm, "spec", "namespaceSelector", "matchNames").([]any); !slices.Contains(ns, any(svc.Metadata.Namespace)) {
		t.Errorf("ServiceMonitor namespaces %v, want %s", ns, svc.Metadata.Namespace)
	}
	endpoints, _ := dig(sm, "spec", "endpoints").([]any)
	if len(endpoints) != 1 {
		t.Fatalf("ServiceMonitor endpoints %v, want one", endpoints)
	}
	ep, _ := endpoints[0].(map[string]any)
	if !slices.ContainsFunc(svc.Spec.Ports, func(p servicePort) bool { return p.Name == ep["port"] }) {
		t.Errorf("ServiceMonitor scrapes port %v; Service %s has %+v", ep["port"], svc.Metadata.Name, svc.Spec.Ports)
	}
	if ep["honorLabels"] != true {
		t.Errorf("ServiceMonitor without honorLabels: the per-object namespace label would become exported_namespace")
	}

	// Prometheus names the job after the Service.
	job := `job="` + svc.Metadata.Name + `"`
	for _, g := range readRules(t).Spec.Groups {
		for _, rl := range g.Rules {
			if strings.Contains(rl.Expr, "job=") && !strings.Contains(rl.Expr, job) {
				t.Errorf("%s selects another job than %s: %s", rl.Alert, job, rl.Expr)
			}
		}
	}
}

type servicePort struct {
	Name string `json:"name"`
	Port int    `json:"port"`
}

type service struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Ports []servicePort `json:"ports"`
	} `json:"spec"`
}

// metricsService is the Service cruise-metrics of config/manager.
func metricsService(t *testing.T) service {
	t.Helper()
	data, err := os.ReadFile("manager/services.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var s service
		if err := yaml.Unmarshal([]byte(doc), &s); err != nil {
			t.Fatal(err)
		}
		if s.Kind == "Service" && s.Metadata.Name == "cruise-metrics" {
			return s
		}
	}
	t.Fatal("manager/services.yaml has no Service cruise-metrics")
	return service{}
}

func dig(o map[string]any, path ...string) any {
	var cur any = o
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
