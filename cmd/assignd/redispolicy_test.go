package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/auth"
)

func policyTestMain(rs *redisServer) *Main {
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.RedisURL = "redis://" + rs.addr()
	m.Config.JWTSecret = "policy-test-secret-0123456789abcdef"
	m.Config.AdminTokens = "ops:policy-admin-0123456789"
	m.Config.Exporter = false
	m.Config.EnrollTimeout = time.Second
	m.Logger = discardLogger()
	return m
}

// TestMain_EvictingRedis: assignd refuses to start on a Redis that may
// evict keys, saying why and how to fix or override it; with
// -allow-evicting-redis (or its variable) it starts and stays ready.
func TestMain_EvictingRedis(t *testing.T) {
	rs := startRedis(t, freePort(t))
	c := redis.NewClient(&redis.Options{Addr: rs.addr()})
	defer c.Close()
	if err := c.ConfigSet(context.Background(), "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}

	m := policyTestMain(rs)
	err := m.Run(context.Background())
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "allkeys-lru") || !strings.Contains(err.Error(), "noeviction") ||
		!strings.Contains(err.Error(), "-allow-evicting-redis") {
		t.Fatalf("Run on allkeys-lru: %v, want a refusal naming the policy, the fix and the override", err)
	}

	cfg := DefaultConfig()
	if err := cfg.ParseFlags(nil, func(k string) string {
		return map[string]string{"ASSIGN_ALLOW_EVICTING_REDIS": "true"}[k]
	}); err != nil || !cfg.AllowEvictingRedis {
		t.Fatalf("ASSIGN_ALLOW_EVICTING_REDIS=true: AllowEvictingRedis=%v err=%v", cfg.AllowEvictingRedis, err)
	}
	m = policyTestMain(rs)
	if err := m.Config.ParseFlags([]string{"-allow-evicting-redis", "-redis-url", m.Config.RedisURL, "-jwt-secret", m.Config.JWTSecret,
		"-admin-token", m.Config.AdminTokens, "-exporter=false", "-addr", "127.0.0.1:0"}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("Run with -allow-evicting-redis: %v", err)
	}
	defer m.Close()
	resp, err := httpClient.Get(m.Server.URL() + "/readyz")
	if err != nil {
		t.Fatal(err)
	} else if body := readAll(resp); resp.StatusCode != 200 {
		t.Fatalf("/readyz with the override: %d %s, want ready", resp.StatusCode, body)
	}
	exposition, err := httpGet(m.Server.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	} else if !strings.Contains(exposition, "assign_redis_evicting_policy 1") {
		t.Fatal("assign_redis_evicting_policy is not 1 on allkeys-lru")
	}
}

// TestMain_RedisOutOfMemory: Redis at its maxmemory under noeviction.
// /readyz answers "degraded" (new enrollments fail), new users get 503 with
// the fallback, members keep their answer, and the failures are counted as
// kind="oom", not as timeouts.
func TestMain_RedisOutOfMemory(t *testing.T) {
	rs := startRedis(t, freePort(t))
	c := redis.NewClient(&redis.Options{Addr: rs.addr()})
	defer c.Close()
	ctx := context.Background()
	m := policyTestMain(rs)
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	url := m.Server.URL()
	client := &http.Client{Timeout: 5 * time.Second}
	admin := "policy-admin-0123456789"
	if code, b := postWith(t, client, url+"/api/experiment-create", admin,
		`{"experiment_id":"oom","maximum_sample_size":1000,"groups":[{"group_name":"a","probability_of_falling_in":0.5},{"group_name":"b","probability_of_falling_in":0.5}]}`); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	enroll := func(user string) (int, string) {
		token, _ := auth.SignHS256([]byte(m.Config.JWTSecret), user, time.Hour, nil)
		return postWith(t, client, url+"/api/experiment-enrollments", token, `{"experiment_id":"oom"}`)
	}
	code, member := enroll("member")
	if code != 200 {
		t.Fatalf("enroll: %d %s", code, member)
	}

	if err := c.Eval(ctx, "for i=1,20000 do redis.call('SET', KEYS[1]..i, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') end return 1", []string{"filler:"}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "1mb").Err(); err != nil {
		t.Fatal(err)
	}

	if code, body := enroll("newcomer"); code != 503 || !strings.Contains(body, `"fallback":"default_experience"`) {
		t.Fatalf("a new user under OOM: %d %s, want 503 with the fallback", code, body)
	}
	if code, body := enroll("member"); code != 200 || body != member {
		t.Fatalf("the member under OOM: %d %s, want %s", code, body, member)
	}
	// Within 15 s (the check runs every 5 s).
	var body string
	waitForCond(t, "/readyz degraded", 15*time.Second, func() bool {
		resp, err := client.Get(url + "/readyz")
		if err != nil {
			return false
		}
		body = readAll(resp)
		return resp.StatusCode == 200 && strings.Contains(body, `"status":"degraded"`) && strings.Contains(body, "new enrollments fail")
	})
	exposition, err := httpGet(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`assign_redis_errors_total{kind="oom"} 1`, `assign_redis_errors_total{kind="timeout"} 0`, "assign_redis_out_of_memory 1"} {
		if !strings.Contains(exposition, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	if err := c.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	waitForCond(t, "/readyz ready again", 15*time.Second, func() bool {
		resp, err := client.Get(url + "/readyz")
		if err != nil {
			return false
		}
		return resp.StatusCode == 200 && strings.Contains(readAll(resp), `"status":"ready"`)
	})
	if code, body := enroll("newcomer"); code != 200 {
		t.Fatalf("a new user after the OOM: %d %s", code, body)
	}
}
