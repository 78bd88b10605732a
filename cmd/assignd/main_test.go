package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/auth"
)

// TestMain_EmbeddedDemo runs the whole program the way `make run` does (no
// Redis, no warehouse configured) and follows the README's walk-through.
func TestMain_EmbeddedDemo(t *testing.T) {
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.Exporter = false
	var out bytes.Buffer
	m.Stdout = &out
	m.Logger = discardLogger()
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	// The demo banner gives working credentials.
	admin := valueAfter(t, out.String(), "export ADMIN_TOKEN=")
	user := valueAfter(t, out.String(), "export USER_TOKEN=")
	secret := valueAfter(t, out.String(), "export JWT_SECRET=")
	url := m.Server.URL()

	create := `{"experiment_id":"f380739f-62f3-4316-8acf-93ed5744cb9e","maximum_sample_size":250,
		"sampling_probability":1,
		"groups":[{"group_name":"old_journey","probability_of_falling_in":0.5},
		          {"group_name":"new_journey","probability_of_falling_in":0.5}],
		"eligibility":[{"claim":"first_order","equals":true}]}`
	if code, body := post(t, url+"/api/experiment-create", admin, create); code != 201 {
		t.Fatalf("create: status=%d body=%s", code, body)
	}

	enroll := `{"experiment_id":"f380739f-62f3-4316-8acf-93ed5744cb9e"}`
	var first, second struct {
		Enrolled bool   `json:"enrolled"`
		Group    string `json:"group_name"`
		Reason   string `json:"reason"`
	}
	code, body := post(t, url+"/api/experiment-enrollments", user, enroll)
	if code != 200 {
		t.Fatalf("enroll: status=%d body=%s", code, body)
	}
	mustJSON(t, body, &first)
	if !first.Enrolled || first.Group == "" {
		t.Fatalf("first enrollment = %s, want enrolled with a group", body)
	}
	_, body = post(t, url+"/api/experiment-enrollments", user, enroll)
	mustJSON(t, body, &second)
	if second != first {
		t.Fatalf("second answer %+v differs from first %+v", second, first)
	}

	// A user without the claim is not eligible; a forged token is refused.
	other, err := auth.SignHS256([]byte(secret), "user-2", time.Hour, map[string]any{"first_order": false})
	if err != nil {
		t.Fatal(err)
	}
	_, body = post(t, url+"/api/experiment-enrollments", other, enroll)
	if !strings.Contains(body, `"not_eligible"`) {
		t.Fatalf("ineligible user got %s", body)
	}
	forged, _ := auth.SignHS256([]byte("not-the-secret-not-the-secret-not-the"), "user-1", time.Hour, nil)
	if code, _ := post(t, url+"/api/experiment-enrollments", forged, enroll); code != 401 {
		t.Fatalf("forged token: status=%d, want 401", code)
	}

	// The admin reads the experiment back with one member counted.
	req, _ := http.NewRequest("GET", url+"/api/experiments/f380739f-62f3-4316-8acf-93ed5744cb9e", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var exp struct {
		Stats struct {
			Enrolled  int64            `json:"enrolled"`
			Remaining int64            `json:"remaining"`
			PerGroup  map[string]int64 `json:"per_group"`
		} `json:"stats"`
	}
	b, _ := io.ReadAll(resp.Body)
	mustJSON(t, string(b), &exp)
	if exp.Stats.Enrolled != 1 || exp.Stats.Remaining != 249 || exp.Stats.PerGroup[first.Group] != 1 {
		t.Fatalf("stats = %+v, want 1 enrolled in %s, 249 remaining", exp.Stats, first.Group)
	}

	// The multi-experiment form reaches the store's batch (one pipeline),
	// through the metrics wrapper, and answers in order.
	if _, ok := m.Server.Enrollments.(assign.BatchEnrollmentService); !ok {
		t.Fatalf("the served enrollments (%T) lost the store's batch form", m.Server.Enrollments)
	}
	code, body = post(t, url+"/api/experiment-enrollments", user, `{"experiment_ids":["f380739f-62f3-4316-8acf-93ed5744cb9e","nope"]}`)
	if want := `{"enrollments":[{"experiment_id":"f380739f-62f3-4316-8acf-93ed5744cb9e","enrolled":true,"group_name":"` + first.Group + `"},{"experiment_id":"nope","error":{"code":"not_found",`; code != 200 || !strings.HasPrefix(body, want) {
		t.Fatalf("batch: status=%d body=%s, want 200 starting %s", code, body, want)
	}
}

// testJWTSecret is an HS256 secret of the 32 bytes RFC 7518 asks for.
const testJWTSecret = "config-test-secret-0123456789abc"

// TestConfig_RealRedisNeedsSecrets checks that assignd refuses to start on a
// real Redis without a JWT key or an admin token.
func TestConfig_RealRedisNeedsSecrets(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		ok   bool
	}{
		{"EmbeddedNeedsNothing", nil, nil, true},
		{"NoJWTKey", []string{"-redis-url", "redis://127.0.0.1:6379", "-admin-token", "0123456789abcdef"}, nil, false},
		{"NoAdmin", []string{"-redis-url", "redis://127.0.0.1:6379", "-jwt-secret", testJWTSecret}, nil, false},
		{"FromEnv", nil, map[string]string{"ASSIGN_REDIS_URL": "redis://x", "ASSIGN_JWT_SECRET": testJWTSecret, "ASSIGN_ADMIN_TOKEN": "ops:0123456789abcdef"}, true},
		{"ShortJWTSecret", []string{"-jwt-secret", "only-31-bytes-0123456789abcdef0"}, nil, false},
		{"ShortJWTSecretFromEnv", nil, map[string]string{"ASSIGN_JWT_SECRET": "s"}, false},
		{"EmptyWarehouseURL", []string{"-warehouse-url", ""}, nil, false},
		{"BlankWarehouseURL", []string{"-warehouse-url", " "}, nil, false},
		{"EmptyWarehouseURLVariable", nil, map[string]string{"ASSIGN_WAREHOUSE_URL": ""}, true}, // unset: the default
		{"ShortAdminToken", []string{"-admin-token", "short"}, nil, false},
		{"BadLogFormat", []string{"-log-format", "xml"}, nil, false},
		{"ResultsWarehouseURL", []string{"-results-warehouse-url", "postgres://reader@db/analytics"}, nil, true},
		{"BadResultsWarehouseURL", []string{"-results-warehouse-url", "mysql://db/x"}, nil, false},
		{"ConsoleOff", []string{"-console=false"}, nil, true},
		{"StrayArgument", []string{"extra"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			err := c.ParseFlags(tc.args, func(k string) string { return tc.env[k] })
			if got := err == nil; got != tc.ok {
				t.Fatalf("ParseFlags err=%v, want ok=%v", err, tc.ok)
			}
		})
	}

	c := DefaultConfig()
	err := c.ParseFlags([]string{"-addr", ":9999"}, func(k string) string {
		return map[string]string{"ASSIGN_ADDR": ":7777", "ASSIGN_ENROLL_TIMEOUT": "80ms"}[k]
	})
	if err != nil {
		t.Fatal(err)
	} else if c.Addr != ":9999" || c.EnrollTimeout != 80*time.Millisecond {
		t.Fatalf("Addr=%q EnrollTimeout=%v, want the flag to win over env and env over default", c.Addr, c.EnrollTimeout)
	} else if c.WarehouseURL != "assign.duckdb" {
		t.Fatalf("WarehouseURL=%q, want the default assign.duckdb", c.WarehouseURL)
	}
}

func post(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func valueAfter(t *testing.T, s, prefix string) string {
	t.Helper()
	i := strings.Index(s, prefix)
	if i < 0 {
		t.Fatalf("output lacks %q:\n%s", prefix, s)
	}
	v := s[i+len(prefix):]
	if j := strings.IndexAny(v, " \n"); j >= 0 {
		v = v[:j]
	}
	return v
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var httpClient = &http.Client{Timeout: 5 * time.Second}
