package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/assign-dev/assign/internal/testenv"
)

// TestDashboardAndAlertsNameRealMetrics checks that every metric the Grafana
// dashboard and the alert rules query is exported by a running assignd, and
// TestAlertRulesPassPromtool checks the rules' syntax.
func TestDashboardAndAlertsNameRealMetrics(t *testing.T) {
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.WarehouseURL = filepath.Join(t.TempDir(), "assign.duckdb")
	m.Stdout = new(strings.Builder)
	m.Logger = discardLogger()
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	out := m.Stdout.(*strings.Builder).String()
	admin, user := valueAfter(t, out, "export ADMIN_TOKEN="), valueAfter(t, out, "export USER_TOKEN=")
	url := m.Server.URL()
	post(t, url+"/api/experiment-create", admin, `{"experiment_id":"d","maximum_sample_size":5,"groups":[{"group_name":"a","probability_of_falling_in":1}]}`)
	post(t, url+"/api/experiment-enrollments", user, `{"experiment_id":"d"}`)
	post(t, url+"/api/experiment-enrollments", "forged", `{"experiment_id":"d"}`)
	exposition, err := httpGet(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, line := range strings.Split(exposition, "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			exported[strings.Fields(name)[0]] = true
		}
	}

	metricName := regexp.MustCompile(`\b(assign|go|process)_[a-z0-9_]+\b`)
	for _, file := range []string{"../../deploy/grafana/assign-dashboard.json", "../../deploy/prometheus/alerts.yml"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, expr := range queries(t, file, b) {
			names = append(names, metricName.FindAllString(expr, -1)...)
		}
		if len(names) == 0 {
			t.Fatalf("%s: no metric found in its queries", file)
		}
		sort.Strings(names)
		for _, n := range names {
			base := n
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(n, suffix); ok && exported[b] {
					base = b
				}
			}
			if !exported[base] {
				t.Errorf("%s queries %s, which assignd does not export", file, n)
			}
		}
	}
}

func TestAlertRulesPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		testenv.Missing(t, "promtool (Debian package prometheus; .ci/install-tools installs it)", "PATH", err)
	}
	out, err := exec.Command(promtool, "check", "rules", "../../deploy/prometheus/alerts.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// queries returns the PromQL expressions of the dashboard (targets' expr) or
// of the rules file (expr: blocks).
func queries(t *testing.T, file string, b []byte) []string {
	if strings.HasSuffix(file, ".json") {
		var d struct {
			Panels []struct {
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var out []string
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				out = append(out, tg.Expr)
			}
		}
		return out
	}
	var out []string
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		rest, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), "expr:")
		if !ok {
			continue
		}
		expr := strings.TrimSpace(rest)
		if expr == "|" { // a block: the more indented lines that follow
			expr = ""
			for i+1 < len(lines) && (strings.HasPrefix(lines[i+1], "          ") || strings.TrimSpace(lines[i+1]) == "") {
				i++
				expr += lines[i] + "\n"
			}
		}
		out = append(out, expr)
	}
	return out
}
