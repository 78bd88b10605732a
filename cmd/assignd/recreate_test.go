package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/redisstore"
)

// Issue 10, item 3, with two real assignd processes (two Mains, each with its
// own definition cache) on one redis-server: Redis loses everything, an
// admin creates the same experiment id again through one of them with other
// groups, and the other one, which served the old experiment, must answer
// from the new groups, as Redis records them. Before, it kept the old salt
// and groups: users were told a group of the lost experiment, and whoever
// drew the third group got a 500.
func TestMain_RecreatedExperimentTwoProcesses(t *testing.T) {
	rs := startRedis(t, freePort(t))
	secret := "recreate-test-secret-0123456789abcdef"
	admin := "recreate-admin-0123456789"
	start := func() *Main {
		t.Helper()
		m := NewMain()
		m.Config.Addr = "127.0.0.1:0"
		m.Config.RedisURL = "redis://" + rs.addr()
		m.Config.JWTSecret = secret
		m.Config.AdminTokens = "ops:" + admin
		m.Config.Exporter = false
		m.Config.EnrollTimeout = 5 * time.Second // no timing in this test
		m.Logger = discardLogger()
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return m
	}
	creator, other := start(), start()
	client := &http.Client{Timeout: 10 * time.Second}

	create := func(groups string) {
		t.Helper()
		body := `{"experiment_id":"recreated","maximum_sample_size":1000,"groups":[` + groups + `]}`
		if code, b := postWith(t, client, creator.Server.URL()+"/api/experiment-create", admin, body); code != 201 {
			t.Fatalf("create: %d %s", code, b)
		}
	}
	enroll := func(m *Main, user string) string {
		t.Helper()
		token, err := auth.SignHS256([]byte(secret), user, time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		code, b := postWith(t, client, m.Server.URL()+"/api/experiment-enrollments", token, `{"experiment_id":"recreated"}`)
		var res struct {
			Enrolled bool   `json:"enrolled"`
			Group    string `json:"group_name"`
		}
		if code != 200 || json.Unmarshal([]byte(b), &res) != nil || !res.Enrolled {
			t.Fatalf("enroll %s: %d %s", user, code, b)
		}
		return res.Group
	}

	create(`{"group_name":"a","probability_of_falling_in":0.5},{"group_name":"b","probability_of_falling_in":0.5}`)
	for i := range 30 {
		if g := enroll(other, fmt.Sprint("user-", i)); g != "a" && g != "b" {
			t.Fatalf("old experiment: group %q", g)
		}
	}

	// Redis loses everything (a restart without persistence, a failover to an
	// empty replica); the admin creates the experiment again.
	rc := redis.NewClient(&redis.Options{Addr: rs.addr()})
	defer rc.Close()
	if err := rc.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	create(`{"group_name":"x","probability_of_falling_in":0.2},{"group_name":"y","probability_of_falling_in":0.3},{"group_name":"z","probability_of_falling_in":0.5}`)
	// The creation's notice reaches the other process's answer cache within
	// the cache's bound (README, The answer cache); until then it may still
	// answer what it kept of the lost experiment.
	deadline := time.Now().Add(redisstore.HeartbeatWindow)
	for g := enroll(other, "user-0"); g != "x" && g != "y" && g != "z"; g = enroll(other, "user-0") {
		if time.Now().After(deadline) {
			t.Fatalf("user-0 through the other process: group %q of the lost experiment %v after its creation again", g, redisstore.HeartbeatWindow)
		}
		time.Sleep(5 * time.Millisecond)
	}

	seen := map[string]int{}
	for i := range 30 {
		u := fmt.Sprint("user-", i)
		g := enroll(other, u) // the process that cached the lost experiment
		if g != "x" && g != "y" && g != "z" {
			t.Fatalf("%s through the other process: group %q, not one of the new experiment", u, g)
		}
		if again := enroll(creator, u); again != g {
			t.Fatalf("%s: %q through the other process, %q through the creator", u, g, again)
		}
		seen[g]++
	}
	// What Redis recorded agrees: 30 members, counted once each.
	resp, err := httpGetJSON(client, creator.Server.URL()+"/api/experiments/recreated", admin)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Stats.Enrolled != 30 || resp.Stats.PerGroup["x"] != int64(seen["x"]) || resp.Stats.PerGroup["z"] != int64(seen["z"]) {
		t.Fatalf("stats %+v, answers %v", resp.Stats, seen)
	}
}

type experimentStats struct {
	Stats struct {
		Enrolled int64            `json:"enrolled"`
		PerGroup map[string]int64 `json:"per_group"`
	} `json:"stats"`
}

func httpGetJSON(c *http.Client, url, token string) (*experimentStats, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var v experimentStats
	return &v, json.NewDecoder(resp.Body).Decode(&v)
}
