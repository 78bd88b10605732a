package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/loadtest"
)

func parse(args []string, env map[string]string) (Config, error) {
	c := DefaultConfig()
	err := c.ParseFlags(args, func(k string) string { return env[k] })
	return c, err
}

func TestConfig_ParseFlags(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		c, err := parse([]string{"-experiments", "3", "-groups", "a:0.25,b:0.75", "-rate", "500", "-requests", "1000", "-watch", "assignd=12,redis=34"},
			map[string]string{"ASSIGN_JWT_SECRET": "s3cret", "ASSIGN_ADMIN_TOKEN": "admin-0123456789abcdef"})
		if err != nil {
			t.Fatal(err)
		}
		if c.JWTSecret != "s3cret" || c.AdminToken == "" || c.Experiments != 3 || c.Rate != 500 || c.Requests != 1000 {
			t.Fatalf("config %+v", c)
		}
		if c.Watch["assignd"] != 12 || c.Watch["redis"] != 34 || len(c.Watch) != 2 {
			t.Fatalf("Watch=%v", c.Watch)
		}
		if len(c.Groups) != 2 || c.Groups[1].Name != "b" || c.Groups[1].Probability != 0.75 {
			t.Fatalf("Groups=%+v", c.Groups)
		}
	})
	t.Run("FlagBeatsEnv", func(t *testing.T) {
		c, err := parse([]string{"-jwt-secret", "flag", "-admin-token", "x"}, map[string]string{"ASSIGN_JWT_SECRET": "env"})
		if err != nil || c.JWTSecret != "flag" {
			t.Fatalf("JWTSecret=%q err=%v, want flag", c.JWTSecret, err)
		}
	})
	for name, args := range map[string][]string{
		"NotLoopback":      {"-url", "http://10.0.0.5:8080", "-jwt-secret", "s", "-admin-token", "a"},
		"PublicName":       {"-url", "http://example.com", "-jwt-secret", "s", "-admin-token", "a"},
		"RedisNotLoopback": {"-redis-url", "redis://192.168.1.1:6379", "-jwt-secret", "s", "-admin-token", "a"},
		"PGNotLoopback":    {"-target", "pg", "-pg-url", "postgres://u@172.16.0.1/db"},
		"NoSecret":         {"-admin-token", "a"},
		"NoAdminToken":     {"-jwt-secret", "s"},
		"Unbounded":        {"-jwt-secret", "s", "-admin-token", "a", "-duration", "0"},
		"TooLong":          {"-jwt-secret", "s", "-admin-token", "a", "-duration", "2h"},
		"BadTarget":        {"-target", "mysql"},
		"BadGroups":        {"-target", "pg", "-groups", "a:0.5,b:0.6"},
		"IDsWithPG":        {"-target", "pg", "-experiment-ids", "x"},
		"StoreNoRedis":     {"-target", "store"},
		"MemoryNoRedis":    {"-jwt-secret", "s", "-admin-token", "a", "-memory"},
		"CommandsNoRedis":  {"-jwt-secret", "s", "-admin-token", "a", "-redis-commands"},
		"BadProgress":      {"-target", "pg", "-progress", "maybe"},
		"Extra":            {"-target", "pg", "extra"},
		"BadWatch":         {"-target", "pg", "-watch", "assignd"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parse(args, nil); err == nil {
				t.Fatalf("ParseFlags(%q) accepted", args)
			}
		})
	}
}

// TestMain_Run_PG runs the whole command against the PostgreSQL baseline and
// reads its JSON report.
func TestMain_Run_PG(t *testing.T) {
	url := testenv.PostgresURL(t)
	var out, errs bytes.Buffer
	m := &Main{Config: DefaultConfig(), Stdout: &out, Stderr: &errs}
	if err := m.ParseFlags([]string{"-target", "pg", "-pg-url", url, "-experiments", "2", "-cap", "20",
		"-users", "100", "-connections", "4", "-requests", "300", "-duration", "0", "-json", "-progress", "off"}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	rep, err := m.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v (stderr %s)", err, errs.String())
	}
	var got loadtest.Report
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	if !rep.Correct() || got.Verify == nil || !got.Verify.OK {
		t.Fatalf("verification: %+v", got.Verify)
	}
	if got.Sent != 300 || got.OK != 300 || got.Verify.Members != 40 {
		t.Fatalf("sent %d ok %d members %d, want 300, 300, 40 (two caps of 20)", got.Sent, got.OK, got.Verify.Members)
	}
	if !strings.Contains(got.Target, "postgres baseline") {
		t.Errorf("Target=%q", got.Target)
	}
}

// TestMain_Run_Store runs the command against the Redis store in process,
// with a text report and a forced progress line.
func TestMain_Run_Store(t *testing.T) {
	addr := testenv.RedisAddr(t)
	ns := testenv.Namespace()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, ns+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	testRunStore(t, "redis://"+addr, ns)
}

// TestMain_Run_StoreCluster: the same run and verification against a local
// Redis Cluster named by one seed node.
func TestMain_Run_StoreCluster(t *testing.T) {
	cl := testenv.SharedCluster(t)
	ns := testenv.Namespace()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
	t.Cleanup(func() {
		_ = rdb.ForEachMaster(context.Background(), func(ctx context.Context, n *redis.Client) error {
			iter := n.Scan(ctx, 0, ns+"*", 1000).Iterator()
			for iter.Next(ctx) {
				n.Del(ctx, iter.Val())
			}
			return nil
		})
		rdb.Close()
	})
	testRunStore(t, cl.SeedURL(), ns)
}

func testRunStore(t *testing.T, url, ns string) {
	var out bytes.Buffer
	m := &Main{Config: DefaultConfig(), Stdout: &out}
	if err := m.ParseFlags([]string{"-target", "store", "-redis-url", url, "-namespace", ns,
		"-experiments", "3", "-cap", "50", "-sampling", "0.8", "-users", "600", "-connections", "8",
		"-requests", "1200", "-duration", "1m", "-progress", "on", "-memory"}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep, err := m.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Correct() || rep.Verify.Members != 150 || rep.Failed != 0 {
		t.Fatalf("correct %v, members %d (want 150), failed %d\n%s", rep.Correct(), rep.Verify.Members, rep.Failed, out.String())
	}
	if rep.Memory == nil || rep.Memory.Members != 150 || rep.Memory.PerMember <= 0 {
		t.Errorf("memory %+v, want 150 members measured", rep.Memory)
	}
	text := out.String()
	for _, want := range []string{"latency", "p99.9", "sample_full=", "not_sampled=", "verify      redis: OK", "bytes each"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	// -progress on writes the progress line (at least its final clearing),
	// with a line per second for longer runs.
	if !strings.Contains(text, "\r\033[K") {
		t.Errorf("no progress output in %q", text)
	}
	if time.Since(start) > 1500*time.Millisecond && !strings.Contains(text, " answers  ") {
		t.Errorf("no progress line in %q", text)
	}
}

// TestMain_Run_DefaultCap checks that without -cap every user that asks
// finds room, warm-up users included: the cap is users/experiments (plus the
// warm-up's share), never reached, never exceeded.
func TestMain_Run_DefaultCap(t *testing.T) {
	url := testenv.PostgresURL(t)
	var out bytes.Buffer
	m := &Main{Config: DefaultConfig(), Stdout: &out}
	if err := m.ParseFlags([]string{"-target", "pg", "-pg-url", url, "-experiments", "3", "-users", "31",
		"-returning", "0", "-connections", "2", "-requests", "31", "-duration", "0", "-progress", "off", "-warmup", "200ms"}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	rep, err := m.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Correct() || rep.Decisions["enrolled"] != 31 || rep.Decisions["sample_full"] != 0 {
		t.Fatalf("decisions %v, want all 31 enrolled", rep.Decisions)
	}
	var foreign int64
	for _, e := range rep.Verify.Experiments {
		if e.Max != 22 {
			t.Errorf("%s: cap %d, want ceil(31/3) for the run + ceil(31/3) for the warm-up = 22", e.ID, e.Max)
		}
		foreign += e.ForeignMembers
	}
	if foreign == 0 {
		t.Errorf("no warm-up member stored: did the warm-up run?")
	}
}
