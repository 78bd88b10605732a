package main_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	main "github.com/assign-dev/assign/cmd/assign-exporter"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse/duckdb"
)

// TestMain stops the package's shared Redis Cluster after the tests.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func newMain(env map[string]string) (*main.Main, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &main.Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] },
		IsTerminal: func() bool { return false }}, &out, &errb
}

func TestRunCommand_ParseFlags(t *testing.T) {
	m, _, _ := newMain(nil)
	env := map[string]string{"ASSIGN_EXPORTER_BATCH_SIZE": "123", "ASSIGN_WAREHOUSE_URL": "from-env.duckdb"}
	c := &main.RunCommand{Main: m}
	if err := c.ParseFlags([]string{"--warehouse-url", "from-flag.duckdb", "--flush-interval", "250ms"}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.Config.BatchSize != 123 || c.Config.WarehouseURL != "from-flag.duckdb" || c.Config.FlushInterval != 250*time.Millisecond {
		t.Fatalf("Config=%+v: want batch 123 from the environment, the flag's URL, 250ms", c.Config)
	}
	if err := c.ParseFlags([]string{"--batch-size", "0"}, func(string) string { return "" }); err == nil {
		t.Fatal("batch-size 0 accepted")
	}
}

func TestMain_Usage(t *testing.T) {
	m, _, errb := newMain(nil)
	if code := m.Run(context.Background(), []string{"nope"}); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	} else if !strings.Contains(errb.String(), "unknown command") {
		t.Fatalf("stderr %q", errb.String())
	}
	if code := m.Run(context.Background(), []string{"export", "--date", "yesterday"}); code != 2 {
		t.Fatalf("bad --date: exit %d, want 2", code)
	}
}

// TestMain_RunThenExport runs the binary's run command on miniredis into a
// DuckDB file, stops it, then runs export for the day and reads the summary.
func TestMain_RunThenExport(t *testing.T) {
	t.Run("miniredis", func(t *testing.T) {
		mr := miniredis.RunT(t)
		client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		defer client.Close()
		testRunThenExport(t, client, "redis://"+mr.Addr(), "cmd:")
	})
	t.Run("cluster", func(t *testing.T) { // named by one seed node
		cl := testenv.SharedCluster(t)
		client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
		defer client.Close()
		testRunThenExport(t, client, cl.SeedURL(), testenv.Namespace())
	})
}

func testRunThenExport(t *testing.T, client redis.UniversalClient, url, ns string) {
	ctx := context.Background()
	keys := redisstore.Keys{Namespace: ns}
	stream := redisstore.EventsKey(keys.Prefix("exp-cmd", ""))
	client.XGroupCreateMkStream(ctx, stream, redisstore.ConsumerGroup, "0")
	client.SAdd(ctx, keys.Streams(), stream)
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 30; i++ {
		client.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"type", "enroll", "user", "u" + strconv.Itoa(i),
			"group", "a", "ts", strconv.FormatInt(day.Add(time.Duration(i)*time.Hour).UnixMilli(), 10)}})
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "w.duckdb")
	env := map[string]string{"ASSIGN_REDIS_URL": url, "ASSIGN_WAREHOUSE_URL": db, "ASSIGN_NAMESPACE": ns}

	m, _, errb := newMain(env)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan int, 1)
	go func() { done <- m.Run(rctx, []string{"--flush-interval", "20ms"}) }()
	deadline := time.Now().Add(60 * time.Second)
	for n, _ := client.XLen(ctx, stream).Result(); n != 0; n, _ = client.XLen(ctx, stream).Result() {
		if time.Now().After(deadline) {
			t.Fatalf("stream not drained; stderr:\n%s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run exit %d; stderr:\n%s", code, errb.String())
	}

	out := filepath.Join(dir, "export")
	m2, stdout, errb2 := newMain(env)
	if code := m2.Run(ctx, []string{"export", "--date", "2026-03-14", "--out", out}); code != 0 {
		t.Fatalf("export exit %d; stderr:\n%s", code, errb2.String())
	}
	if !strings.Contains(stdout.String(), "exported 24 enrollments of 1 experiments for 2026-03-14") {
		t.Fatalf("summary %q", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(out, "experiment_id=exp-cmd", "date=2026-03-14", "enrollments.parquet")); err != nil {
		t.Fatal(err)
	}
	s, _ := duckdb.Open(db, duckdb.Options{})
	if n, err := s.CountEnrollments(ctx, day, day.AddDate(0, 0, 2)); err != nil || n != 30 {
		t.Fatalf("warehouse holds %d rows (%v), want 30", n, err)
	}
}
