package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caiquan/caiquan/internal/testing/testserver"
	"gopkg.in/yaml.v3"
)

// promtool runs promtool (Debian's prometheus package) with args in dir.
func promtool(t *testing.T, dir string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool(t, "promtool"), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestAlertRules: the rules load, Prometheus's configuration loads them,
// and each alert fires where alerts_test.yml says and nowhere else.
func TestAlertRules(t *testing.T) {
	promtool(t, "prometheus", "check", "rules", "alerts.yml")
	promtool(t, "prometheus", "check", "config", "prometheus.yml")
	promtool(t, "prometheus", "test", "rules", "alerts_test.yml")

	// Every alert has its firing and its quiet case.
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(mustRead(t, "prometheus/alerts.yml")), &rules); err != nil {
		t.Fatal(err)
	}
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal([]byte(mustRead(t, "prometheus/alerts_test.yml")), &tests); err != nil {
		t.Fatal(err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if !fires[r.Alert] || !quiet[r.Alert] {
				t.Errorf("alert %s: tested firing %v, tested quiet %v; want both", r.Alert, fires[r.Alert], quiet[r.Alert])
			}
		}
	}
	if n < 5 {
		t.Errorf("%d alert rules; want at least 5", n)
	}
}

// dashboardExprs returns the PromQL of every panel of the Grafana
// dashboard, by panel title.
func dashboardExprs(t *testing.T) map[string][]string {
	t.Helper()
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(mustRead(t, "grafana/caiquan.json")), &dash); err != nil {
		t.Fatalf("grafana/caiquan.json: %v", err)
	}
	out := map[string][]string{}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			if tg.Expr == "" {
				t.Errorf("panel %q has a target without expr", p.Title)
			}
			out[p.Title] = append(out[p.Title], tg.Expr)
		}
	}
	return out
}

// TestDashboardLayout: panel ids are unique, panels lie within Grafana's 24
// columns without covering each other, and no panel repeats a query id.
func TestDashboardLayout(t *testing.T) {
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID      int                      `json:"id"`
			Title   string                   `json:"title"`
			GridPos struct{ X, Y, W, H int } `json:"gridPos"`
			Targets []struct {
				RefID string `json:"refId"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(mustRead(t, "grafana/caiquan.json")), &dash); err != nil {
		t.Fatal(err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("no uid or no panels")
	}
	ids := map[int]string{}
	cells := map[[2]int]string{}
	for _, p := range dash.Panels {
		if other, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", p.Title, other, p.ID)
		}
		ids[p.ID] = p.Title
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v is outside 24 columns", p.Title, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := cells[[2]int{x, y}]; ok {
					t.Errorf("panel %q covers %q at %d,%d", p.Title, other, x, y)
					return
				}
				cells[[2]int{x, y}] = p.Title
			}
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if refs[tg.RefID] || tg.RefID == "" {
				t.Errorf("panel %q: query id %q missing or repeated", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
		}
	}
}

// TestDashboard: the dashboard's queries are PromQL Prometheus accepts
// (promtool checks them as recording rules, with Grafana's variables
// filled in), and it has the panels an operator looks for.
func TestDashboard(t *testing.T) {
	exprs := dashboardExprs(t)
	for _, title := range []string{"Players online", "Rounds / s", "p99 time to match", "p99 relay and settlement lag",
		"Actor restarts and kills by kind", "p99 store latency by operation", "Cluster members"} {
		if len(exprs[title]) == 0 {
			t.Errorf("no panel %q", title)
		}
	}
	vars := strings.NewReplacer("$__rate_interval", "5m", "$job", ".*", "$instance", ".*")
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for title, list := range exprs {
		for i, e := range list {
			if m := regexp.MustCompile(`\$\w+`).FindString(vars.Replace(e)); m != "" {
				t.Errorf("panel %q: variable %s is not one the dashboard defines", title, m)
			}
			rules = append(rules, rule{Record: fmt.Sprintf("dashboard:panel_%d_%d", len(rules), i), Expr: vars.Replace(e)})
		}
	}
	doc, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dashboard.yml"), doc, 0o644); err != nil {
		t.Fatal(err)
	}
	promtool(t, dir, "check", "rules", "dashboard.yml")
}

// metricName finds the metric names in PromQL: ours, and the process
// collector's. Label names and functions have no such prefix.
var metricName = regexp.MustCompile(`\b(?:caiquan|process|go)_[a-z0-9_]+\b`)

// TestMonitoredMetricsExist: every metric the dashboard and the alert
// rules name is one a real server serves on /metrics (a histogram's
// _bucket, _sum and _count included), so none of them watches a name
// that was renamed or never existed.
func TestMonitoredMetricsExist(t *testing.T) {
	s := testserver.Start(t)
	resp, err := http.Get("http://" + s.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	served := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) (\S+)$`).FindAllStringSubmatch(string(body), -1) {
		served[m[1]] = true
		switch m[2] {
		case "histogram":
			served[m[1]+"_bucket"], served[m[1]+"_sum"], served[m[1]+"_count"] = true, true, true
		case "summary":
			served[m[1]+"_sum"], served[m[1]+"_count"] = true, true
		}
	}
	if !served["caiquan_rounds_settled_total"] || !served["caiquan_settlement_lag_seconds_bucket"] {
		t.Fatalf("could not read the metric names from /metrics:\n%s", body)
	}

	used := map[string][]string{} // name: where
	for title, list := range dashboardExprs(t) {
		for _, e := range list {
			for _, n := range metricName.FindAllString(e, -1) {
				used[n] = append(used[n], "dashboard panel "+title)
			}
		}
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(mustRead(t, "prometheus/alerts.yml")), &rules); err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			for _, n := range metricName.FindAllString(r.Expr, -1) {
				used[n] = append(used[n], "alert "+r.Alert)
			}
		}
	}
	if len(used) < 15 {
		t.Errorf("only %d metric names found in the dashboard and the rules: %v", len(used), used)
	}
	for name, where := range used {
		if !served[name] {
			slices.Sort(where)
			t.Errorf("%s (in %s) is not served on /metrics", name, strings.Join(slices.Compact(where), ", "))
		}
	}
}
