package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/internal/testenv"
)

// TestDashboardAndAlertsOnPrometheus runs a real Prometheus server (Debian
// package prometheus) scraping a running assignd on a private redis-server,
// with the repository's alert rules (their for: shortened to 1s). Under
// traffic every query of every dashboard panel returns data, and every
// series selector of every alert rule selects some series (a wrong label,
// like route="enroll", selects none). Then Redis turns evicting and
// AssignRedisEvictingPolicy fires, and Redis stops and AssignRedisDown fires.
func TestDashboardAndAlertsOnPrometheus(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		testenv.Missing(t, "prometheus server (Debian package prometheus; .ci/install-tools installs it)", "PATH", err)
	}
	rs := startRedis(t, freePort(t))
	dir := t.TempDir()

	secret := "prometheus-test-secret-0123456789abcdef"
	admin := "prometheus-admin-0123456789"
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.RedisURL = "redis://" + rs.addr()
	m.Config.JWTSecret = secret
	m.Config.AdminTokens = "ops:" + admin
	m.Config.WarehouseURL = filepath.Join(dir, "assign.duckdb")
	m.Config.ExportFlushInterval = 200 * time.Millisecond
	m.Config.EnrollTimeout = time.Second
	var assigndLog testenv.Buffer
	m.Logger = slog.New(slog.NewTextHandler(&assigndLog, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	defer func() {
		if t.Failed() {
			t.Logf("assignd log (warnings and errors):\n%s", assigndLog.String())
		}
	}()
	base := m.Server.URL()

	// Prometheus: its own config, rules and storage, on a free port.
	rules, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	shortFor := regexp.MustCompile(`(?m)^(\s+for:\s*)\S+$`).ReplaceAll(rules, []byte("${1}1s"))
	if err := os.WriteFile(filepath.Join(dir, "alerts.yml"), shortFor, 0o644); err != nil {
		t.Fatal(err)
	}
	target := strings.TrimPrefix(base, "http://")
	cfg := fmt.Sprintf(`global:
  scrape_interval: 2s
  scrape_timeout: 1500ms
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: assignd
    static_configs:
      - targets: [%q]
`, filepath.Join(dir, "alerts.yml"), target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	prom := exec.Command(promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	var promLog testenv.Buffer
	prom.Stdout, prom.Stderr = &promLog, &promLog
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = prom.Process.Kill()
		_ = prom.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", promLog.String())
		}
	}()
	api := "http://" + promAddr
	waitForCond(t, "prometheus ready", 60*time.Second, func() bool {
		resp, err := httpClient.Get(api + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// Traffic until the test ends: enrollments (new and returning users),
	// forged tokens, admin reads.
	client := &http.Client{Timeout: 3 * time.Second}
	for _, id := range []string{"prom-a", "prom-b"} {
		body := `{"experiment_id":"` + id + `","maximum_sample_size":100000,"groups":[{"group_name":"a","probability_of_falling_in":0.5},{"group_name":"b","probability_of_falling_in":0.5}]}`
		if code, b := postWith(t, client, base+"/api/experiment-create", admin, body); code != 201 {
			t.Fatalf("create: %d %s", code, b)
		}
	}
	stop := make(chan struct{})
	var stopOnce sync.Once
	var wg sync.WaitGroup
	stopTraffic := func() { stopOnce.Do(func() { close(stop) }); wg.Wait() }
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			user := i // a new user (a new event for the exporter), or a returning one
			if i%3 == 2 {
				user = i / 2
			}
			token, _ := auth.SignHS256([]byte(secret), fmt.Sprintf("user-%d", user), time.Hour, nil)
			for _, id := range []string{"prom-a", "prom-b"} {
				req, _ := http.NewRequest("POST", base+"/api/experiment-enrollments", strings.NewReader(`{"experiment_id":"`+id+`"}`))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				if resp, err := client.Do(req); err == nil {
					resp.Body.Close()
				}
			}
			if i%10 == 0 {
				req, _ := http.NewRequest("POST", base+"/api/experiment-enrollments", strings.NewReader(`{"experiment_id":"prom-a"}`))
				req.Header.Set("Authorization", "Bearer forged.token.value")
				if resp, err := client.Do(req); err == nil {
					resp.Body.Close()
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	defer stopTraffic()

	query := func(q string) ([]float64, error) {
		resp, err := httpClient.Get(api + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return nil, err
		}
		var r struct {
			Status, Error string
			Data          struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil {
			return nil, err
		} else if r.Status != "success" {
			return nil, fmt.Errorf("%s: %s", r.Status, r.Error)
		}
		var vals []float64
		for _, s := range r.Data.Result {
			str, _ := s.Value[1].(string)
			v, _ := strconv.ParseFloat(str, 64)
			vals = append(vals, v)
		}
		return vals, nil
	}
	// hasData: at least one series with a number (not NaN: a quantile of
	// no observations).
	hasData := func(q string) (bool, error) {
		vals, err := query(q)
		for _, v := range vals {
			if !math.IsNaN(v) {
				return true, err
			}
		}
		return false, err
	}

	firing := func(name string) bool {
		resp, err := httpClient.Get(api + "/api/v1/alerts")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
					State  string            `json:"state"`
				} `json:"alerts"`
			} `json:"data"`
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil {
			return false
		}
		for _, a := range r.Data.Alerts {
			if a.Labels["alertname"] == name && a.State == "firing" {
				return true
			}
		}
		return false
	}

	t.Run("RedisEvictingPolicyFires", func(t *testing.T) {
		c := redis.NewClient(&redis.Options{Addr: rs.addr()})
		defer c.Close()
		ctx := context.Background()
		if firing("AssignRedisEvictingPolicy") {
			t.Fatal("firing before the policy changed")
		}
		if err := c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
			t.Fatal(err)
		}
		// assignd turns unready within 15 s (it checks every 5 s) and says why;
		// those 503s of /readyz are also the 5xx the error-rate rule selects.
		waitForCond(t, "/readyz unready on allkeys-lru", 15*time.Second, func() bool {
			resp, err := httpClient.Get(base + "/readyz")
			if err != nil {
				return false
			}
			body := readAll(resp)
			return resp.StatusCode == 503 && strings.Contains(body, "evict") && strings.Contains(body, "allkeys-lru")
		})
		waitForCond(t, "AssignRedisEvictingPolicy firing", 60*time.Second, func() bool { return firing("AssignRedisEvictingPolicy") })
		if err := c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
			t.Fatal(err)
		}
		waitForCond(t, "AssignRedisEvictingPolicy resolved", 60*time.Second, func() bool { return !firing("AssignRedisEvictingPolicy") })
		waitForCond(t, "/readyz ready again", 15*time.Second, func() bool {
			resp, err := httpClient.Get(base + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200
		})
	})

	dashboard, err := os.ReadFile("../../deploy/grafana/assign-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var panels struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(dashboard, &panels); err != nil {
		t.Fatal(err)
	}
	// Grafana's $__rate_interval is at least four scrape intervals (2s).
	rateInterval := strings.NewReplacer("$__rate_interval", "20s", "${__rate_interval}", "20s")
	t.Run("EveryPanelHasData", func(t *testing.T) {
		for _, p := range panels.Panels {
			for _, tg := range p.Targets {
				q := rateInterval.Replace(tg.Expr)
				var lastErr error
				ok := pollFor(90*time.Second, func() bool {
					ok, err := hasData(q)
					lastErr = err
					return ok
				})
				if !ok {
					exposition, _ := httpGet(base + "/metrics")
					t.Errorf("panel %q: %s returns no data (err %v); assignd exports:\n%s", p.Title, tg.Expr, lastErr, grepLines(exposition, metricOf(tg.Expr)))
				}
			}
		}
	})

	t.Run("EveryAlertSelectorSelects", func(t *testing.T) {
		// A series selector: a metric name and its optional label matchers.
		selector := regexp.MustCompile(`\b((?:assign|go|process)_[a-z0-9_]+)(\{[^}]*\})?`)
		exprs := queries(t, "alerts.yml", rules)
		if len(exprs) == 0 {
			t.Fatal("no rule expressions")
		}
		for _, expr := range exprs {
			for _, sel := range selector.FindAllString(expr, -1) {
				q := "count(" + sel + ")"
				if !pollFor(60*time.Second, func() bool { ok, _ := hasData(q); return ok }) {
					t.Errorf("the rule %q selects nothing with %s", strings.TrimSpace(expr), sel)
				}
			}
		}
		// Prometheus loaded every rule and evaluates them without error.
		resp, err := httpClient.Get(api + "/api/v1/rules")
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Data struct {
				Groups []struct {
					Rules []struct{ Name, Health, LastError string } `json:"rules"`
				} `json:"groups"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, g := range r.Data.Groups {
			for _, rule := range g.Rules {
				n++
				if rule.Health == "err" {
					t.Errorf("rule %s: %s", rule.Name, rule.LastError)
				}
			}
		}
		if want := strings.Count(string(rules), "- alert:"); n != want {
			t.Errorf("prometheus loaded %d rules, want %d", n, want)
		}
	})

	t.Run("RedisDownFires", func(t *testing.T) {
		if firing("AssignRedisDown") {
			t.Fatal("firing while Redis is up")
		}
		stopTraffic() // the panels are done; spare the log a flood of refused dials
		rs.stop()
		waitForCond(t, "AssignRedisDown firing", 60*time.Second, func() bool { return firing("AssignRedisDown") })
	})
}

// pollFor reports whether ok became true within d.
func pollFor(d time.Duration, ok func() bool) bool {
	for end := time.Now().Add(d); ; time.Sleep(250 * time.Millisecond) {
		if ok() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

func waitForCond(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	if !pollFor(d, ok) {
		t.Fatalf("not within %v: %s", d, what)
	}
}

// metricOf returns the first metric name in a query, for failure messages.
func metricOf(q string) string {
	return regexp.MustCompile(`\b(assign|go|process)_[a-z0-9_]+`).FindString(q)
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if sub != "" && strings.Contains(l, strings.TrimSuffix(sub, "_bucket")) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
