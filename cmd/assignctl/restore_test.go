package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/exporter"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/duckdb"
)

// restoreSummary is the JSON summary of assignctl restore.
type restoreSummary struct {
	Restored        int             `json:"experiments_restored"`
	Present         int             `json:"experiments_present"`
	Refused         int             `json:"experiments_refused"`
	MembersRestored int             `json:"members_restored"`
	MembersPresent  int             `json:"members_present"`
	Experiments     []restoreResult `json:"experiments"`
}

// TestRestoreCommand_AfterFlush is the whole path: 300 users asked for an
// experiment capped at 200, the exporter copies everything into a DuckDB
// file, Redis loses every key, `assignctl restore` puts them back, and every
// user gets the same answer with exact counters; a layered experiment in the
// warehouse is refused (exit 1) without stopping the others; a rerun
// restores nothing.
func TestRestoreCommand_AfterFlush(t *testing.T) {
	for _, name := range []string{"miniredis", "redis", "cluster"} {
		t.Run(name, func(t *testing.T) {
			var url string
			var c redis.UniversalClient
			switch name {
			case "miniredis":
				url = "redis://" + miniredis.RunT(t).Addr()
			case "redis":
				url = "redis://" + testenv.RedisAddr(t)
			case "cluster": // named by one seed node, as a user would
				url = testenv.SharedCluster(t).SeedURL()
			}
			c, err := redisstore.NewClient(testenv.Context(t), url)
			if err != nil {
				t.Fatal(err)
			}
			testRestoreAfterFlush(t, c, url)
		})
	}
}

func testRestoreAfterFlush(t *testing.T, c redis.UniversalClient, url string) {
	ctx := testenv.Context(t)
	ns := testenv.Namespace()
	t.Cleanup(func() {
		deleteKeys(t, c, ns)
		c.Close()
	})
	keys := redisstore.Keys{Namespace: ns}
	s := redisstore.New(c, keys)

	e := &assign.Experiment{ID: "restore-e2e", MaxSampleSize: 200, SamplingProbability: 0.8,
		Groups:    []assign.Group{{Name: "old", Probability: 0.5}, {Name: "new", Probability: 0.5}},
		Overrides: map[string]string{"qa-1": "new"}}
	if err := s.CreateExperiment(ctx, e); err != nil {
		t.Fatal(err)
	}
	paused := assign.StatusPaused
	if _, err := s.UpdateExperiment(ctx, e.ID, assign.ExperimentUpdate{Status: &paused}, "alice"); err != nil {
		t.Fatal(err)
	}
	running := assign.StatusRunning
	if _, err := s.UpdateExperiment(ctx, e.ID, assign.ExperimentUpdate{Status: &running}, "bob"); err != nil {
		t.Fatal(err)
	}
	answers := map[string]assign.Enrollment{}
	reasons := map[assign.Reason]int{}
	for i := range 300 {
		u := fmt.Sprintf("user-%d", i)
		res, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: e.ID, UserID: u})
		if err != nil {
			t.Fatal(err)
		}
		answers[u] = *res
		reasons[res.Reason]++
	}
	if reasons[assign.ReasonSampleFull] == 0 || reasons[assign.ReasonNotSampled] == 0 {
		t.Fatalf("answers %v: want some sample_full and some not_sampled", reasons)
	}
	before, err := s.FindExperimentByID(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	} else if before.Stats.Enrolled != 200 {
		t.Fatalf("enrolled %d, want the cap 200", before.Stats.Enrolled)
	}

	// The exporter copies every event to a DuckDB file.
	file := filepath.Join(t.TempDir(), "wh.duckdb")
	sink, err := duckdb.Open(file, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := &exporter.Exporter{Client: c, Keys: keys, Sink: sink, Consumer: "t", BatchSize: 100,
		FlushInterval: 10 * time.Millisecond, RefreshInterval: 20 * time.Millisecond,
		RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- x.Run(runCtx) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		bl, err := x.Backlog(ctx)
		if err == nil && bl.Length == 0 && bl.Pending == 0 {
			if n, _ := sink.CountEnrollments(ctx, time.Unix(0, 0), time.Now().Add(time.Hour)); n == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the exporter did not drain the stream: %+v %v", bl, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("exporter: %v", err)
	}
	// A layered experiment the warehouse knows: refused, the rest restored.
	layered := warehouse.NewExperimentRow(&assign.Experiment{ID: "layered", MaxSampleSize: 10, SamplingProbability: 1,
		Groups: []assign.Group{{Name: "a", Probability: 1}}, Layer: "checkout", Status: assign.StatusRunning,
		Salt: "abcd", Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}, "admin", time.Now())
	if err := sink.WriteBatch(ctx, nil, []warehouse.ExperimentRow{layered}); err != nil {
		t.Fatal(err)
	}
	sink.Close()

	env := map[string]string{"ASSIGN_REDIS_URL": url, "ASSIGN_NAMESPACE": ns, "ASSIGN_WAREHOUSE_URL": file}
	// Before any loss: the experiment is present, its member buckets grown
	// past the first generation; nothing to write, exit 0.
	if keys, err := s.BucketKeys(ctx, e.ID); err != nil || len(keys) < 2 {
		t.Fatalf("bucket keys %v (%v): want grown generations for this check", keys, err)
	}
	r := run(t, env, "", "restore", "--experiment", e.ID, "--output", "table").mustOK(t)
	if want := "experiments: 0 restored, 1 already present (left alone), 0 refused; members: 0 restored, 200 already present"; !contains(r.Stdout, want) {
		t.Fatalf("restore before any loss: %q, want %q", r.Stdout, want)
	}

	// Redis loses everything.
	deleteKeys(t, c, ns)
	if _, err := redisstore.New(c, keys).FindExperimentByID(ctx, e.ID); assign.ErrorCode(err) != assign.ENOTFOUND {
		t.Fatalf("after the flush: %v, want ENOTFOUND", err)
	}

	var sum restoreSummary
	r = run(t, env, "", "restore", "--output", "json").mustCode(t, ExitError, "1 experiment(s) could not be restored")
	r.json(t, &sum)
	if sum.Restored != 1 || sum.Refused != 1 || sum.MembersRestored != 200 || sum.MembersPresent != 0 {
		t.Fatalf("summary %+v, want 1 restored, 1 refused, 200 members", sum)
	}

	// A fresh store, as a restarted assignd: the same answers for everyone.
	s2 := redisstore.New(c, keys)
	after, err := s2.FindExperimentByID(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Salt != before.Salt || after.Version != 3 || after.Status != assign.StatusRunning || after.UpdatedBy != "bob" ||
		!after.CreatedAt.Equal(before.CreatedAt) || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("restored configuration %+v, want %+v", after, before)
	}
	// The QA override survives: the QA user is still no member.
	if after.Overrides["qa-1"] != "new" || len(after.Overrides) != 1 {
		t.Fatalf("restored overrides %v, want qa-1 → new", after.Overrides)
	}
	if res, err := s2.Enroll(ctx, assign.EnrollRequest{ExperimentID: e.ID, UserID: "qa-1"}); err != nil || !res.Override || res.Group != "new" {
		t.Fatalf("qa-1 after restore: %+v, %v; want the override", res, err)
	}
	var sumGroups int64
	for g, n := range after.Stats.PerGroup {
		if n != before.Stats.PerGroup[g] {
			t.Fatalf("group %s: %d members, want %d", g, n, before.Stats.PerGroup[g])
		}
		sumGroups += n
	}
	if after.Stats.Enrolled != 200 || sumGroups != 200 {
		t.Fatalf("n=%d, sum of groups=%d; want 200", after.Stats.Enrolled, sumGroups)
	}
	for u, want := range answers {
		res, err := s2.Enroll(ctx, assign.EnrollRequest{ExperimentID: e.ID, UserID: u})
		if err != nil {
			t.Fatal(err)
		}
		if res.Group != want.Group || res.Reason != want.Reason || res.New {
			t.Fatalf("%s: %+v after restore, want %+v", u, *res, want)
		}
	}

	// A rerun of one experiment: nothing to do, exit 0, plain summary.
	r = run(t, env, "", "restore", "--experiment", e.ID, "--output", "table").mustOK(t)
	want := "experiments: 0 restored, 1 already present (left alone), 0 refused; members: 0 restored, 200 already present"
	if !contains(r.Stdout, want) {
		t.Fatalf("rerun summary %q, want %q", r.Stdout, want)
	}
	if e2, err := s2.FindExperimentByID(ctx, e.ID); err != nil || e2.Stats.Enrolled != 200 {
		t.Fatalf("after the rerun: %v, %v; want 200 enrolled", e2, err)
	}
}

func TestRestoreCommand_Usage(t *testing.T) {
	run(t, nil, "", "restore", "extra").mustCode(t, ExitUsage, "want 0 argument(s)")
	run(t, nil, "", "restore", "--experiment", "bad/id").mustCode(t, ExitUsage, "--experiment")
	run(t, nil, "", "restore", "--redis-url", "").mustCode(t, ExitUsage, "--redis-url")
	file := filepath.Join(t.TempDir(), "empty.duckdb")
	env := map[string]string{"ASSIGN_REDIS_URL": "redis://" + miniredis.RunT(t).Addr(), "ASSIGN_WAREHOUSE_URL": file}
	run(t, env, "", "restore", "--experiment", "nope").mustCode(t, ExitError, "not in the warehouse: nope")
	var sum restoreSummary
	run(t, env, "", "restore", "--output", "json").mustOK(t).json(t, &sum)
	if sum.Restored != 0 || sum.Experiments == nil || len(sum.Experiments) != 0 {
		t.Fatalf("empty warehouse: %+v", sum)
	}
	if h := run(t, nil, "", "restore", "--help").mustOK(t); !contains(h.Stdout, "--redis-url") || !contains(h.Stdout, "--experiment") {
		t.Fatalf("help: %s", h.Stdout)
	}
}

// deleteKeys deletes every key of a namespace: a Redis loss for this test.
func deleteKeys(tb testing.TB, c redis.UniversalClient, ns string) {
	tb.Helper()
	ctx := context.Background()
	del := func(ctx context.Context, n redis.UniversalClient) error {
		keys, err := n.Keys(ctx, ns+"*").Result()
		for _, k := range keys { // one by one: on a cluster they span slots
			if err := n.Del(ctx, k).Err(); err != nil {
				return err
			}
		}
		return err
	}
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return del(ctx, n) })
	} else {
		err = del(ctx, c)
	}
	if err != nil {
		tb.Fatal(err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
