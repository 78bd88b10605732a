package redisstore_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// TestRestore_SameAnswersAfterFlush enrolls 300 users in an experiment
// capped at 200 (so some are told sample_full and some not_sampled), loses
// every key of the namespace, restores the experiment and its members as
// Members read them, and checks that every user gets the same answer, that
// the counters are exact, that new users are still refused, that no
// enrollment event was written, and that a rerun restores nothing.
func TestRestore_SameAnswersAfterFlush(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		e := mustCreate(t, s, newExperiment("restore-1", 200, 0.8))
		// A second version, so the restore has more than a creation to keep.
		probs := []assign.Group{{Name: "control", Probability: 0.3}, {Name: "treatment", Probability: 0.7}}
		if _, err := s.UpdateExperiment(ctx, e.ID, assign.ExperimentUpdate{Groups: probs}, "alice"); err != nil {
			t.Fatal(err)
		}
		before := map[string]assign.Enrollment{}
		reasons := map[assign.Reason]int{}
		for i := range 300 {
			u := fmt.Sprintf("user-%d", i)
			res := mustEnroll(t, s, e.ID, u)
			before[u] = *res
			reasons[res.Reason]++
		}
		if reasons[assign.ReasonSampleFull] == 0 || reasons[assign.ReasonNotSampled] == 0 || reasons[""] != 200 {
			t.Fatalf("answers %v: want 200 enrolled, some sample_full and some not_sampled", reasons)
		}
		saved, err := s.FindExperimentByID(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		members := readMembers(t, s, e.ID)

		flush(t, c, s.Keys().Namespace)
		if _, err := s.FindExperimentByID(ctx, e.ID); assign.ErrorCode(err) != assign.ENOTFOUND {
			t.Fatalf("after the flush: %v, want ENOTFOUND", err)
		}

		cfg := *saved
		cfg.Stats = nil
		n, err := s.Restore(ctx, &cfg, members)
		if err != nil {
			t.Fatal(err)
		} else if n != 200 {
			t.Fatalf("restored %d members, want 200", n)
		}
		got, err := s.FindExperimentByID(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, saved) {
			t.Fatalf("restored experiment\n got %+v %+v\nwant %+v %+v", got, got.Stats, saved, saved.Stats)
		}
		if n := checkCounts(t, s, e.ID); n != 200 {
			t.Fatalf("n=%d after restore, want 200", n)
		}
		if after := readMembers(t, s, e.ID); !reflect.DeepEqual(after, members) {
			t.Fatalf("members after restore differ from before (%d vs %d)", len(after), len(members))
		}
		for u, want := range before {
			if res := mustEnroll(t, s, e.ID, u); res.Group != want.Group || res.Reason != want.Reason || res.New {
				t.Fatalf("%s: got %+v after restore, want %+v (and not new)", u, *res, want)
			}
		}
		full := 0
		for i := range 50 {
			res := mustEnroll(t, s, e.ID, fmt.Sprintf("new-%d", i))
			if res.Enrolled {
				t.Fatalf("new user enrolled past the cap: %+v", *res)
			} else if res.Reason == assign.ReasonSampleFull {
				full++
			}
		}
		if full == 0 {
			t.Fatal("no new user was told sample_full")
		}
		// Only the config event of the re-creation: no enrollment event.
		msgs, err := c.XRange(ctx, redisstore.EventsKey(s.Keys().Prefix(e.ID, "")), "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Values[redisstore.EventType] != redisstore.EventConfig {
				t.Fatalf("restore wrote event %v, want only a config event", m.Values)
			}
		}
		if len(msgs) != 1 {
			t.Fatalf("%d events after restore, want 1 config event", len(msgs))
		}

		// A rerun: configuration left alone, nothing written, nothing counted.
		again := cfg
		again.Status = assign.StatusPaused
		if n, err := s.Restore(ctx, &again, members); err != nil {
			t.Fatal(err)
		} else if n != 0 {
			t.Fatalf("rerun restored %d, want 0", n)
		}
		if n := checkCounts(t, s, e.ID); n != 200 {
			t.Fatalf("n=%d after rerun, want 200", n)
		}
		if x, err := s.FindExperimentByID(ctx, e.ID); err != nil {
			t.Fatal(err)
		} else if x.Status != assign.StatusRunning {
			t.Fatalf("rerun changed the existing configuration: status %s", x.Status)
		}
	})
}

// TestRestore_PartialMembers restores half the members, then all: the
// second call writes only the missing half, and the counters match.
func TestRestore_PartialMembers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		e := mustCreate(t, s, newExperiment("restore-2", 1000, 1))
		for i := range 120 {
			mustEnroll(t, s, e.ID, fmt.Sprintf("u%d", i))
		}
		saved, err := s.FindExperimentByID(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		members := readMembers(t, s, e.ID)
		flush(t, c, s.Keys().Namespace)
		saved.Stats = nil
		if n, err := s.Restore(ctx, saved, members[:50]); err != nil || n != 50 {
			t.Fatalf("first half: %d, %v; want 50", n, err)
		}
		if n, err := s.RestoreMembers(ctx, e.ID, members); err != nil || n != 70 {
			t.Fatalf("all: %d, %v; want 70", n, err)
		}
		if n := checkCounts(t, s, e.ID); n != 120 {
			t.Fatalf("n=%d, want 120", n)
		}
	})
}

// TestRestore_Refuses checks the inputs a faithful restore cannot take.
func TestRestore_Refuses(t *testing.T) {
	s, _ := openMiniredis(t)
	ctx := testenv.Context(t)
	base := func() *assign.Experiment {
		e := newExperiment("restore-3", 10, 1)
		e.Salt, e.Status, e.Version = "00ff", assign.StatusRunning, 3
		e.CreatedAt = e.CreatedAt.AddDate(2026, 0, 0)
		e.UpdatedAt = e.CreatedAt
		return e
	}
	for name, change := range map[string]func(*assign.Experiment){
		"no salt":    func(e *assign.Experiment) { e.Salt = "" },
		"bad salt":   func(e *assign.Experiment) { e.Salt = "xyz" },
		"no version": func(e *assign.Experiment) { e.Version = 0 },
		"layer":      func(e *assign.Experiment) { e.Layer = "checkout" },
	} {
		e := base()
		change(e)
		if _, err := s.Restore(ctx, e, nil); assign.ErrorCode(err) != assign.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	e := base()
	if _, err := s.Restore(ctx, e, []assign.Member{{UserID: "u1", Group: "nope"}}); assign.ErrorCode(err) != assign.EINVALID {
		t.Fatalf("unknown group: %v, want EINVALID", err)
	}
	if n := checkCounts(t, s, e.ID); n != 0 {
		t.Fatalf("n=%d after a refused batch, want 0", n)
	}
}

// readMembers returns an experiment's members sorted by user id.
func readMembers(tb testing.TB, s *redisstore.Store, id string) []assign.Member {
	tb.Helper()
	var ms []assign.Member
	if err := s.Members(context.Background(), id, func(m assign.Member) error {
		ms = append(ms, m)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].UserID < ms[j].UserID })
	return ms
}

// flush deletes every key of a namespace: a Redis loss, for this test's keys.
func flush(tb testing.TB, c redis.UniversalClient, ns string) {
	tb.Helper()
	ctx := context.Background()
	keys := allKeys(tb, c, ns+"*")
	if len(keys) == 0 {
		tb.Fatal("nothing to flush")
	}
	for _, k := range keys { // one by one: on a cluster they span slots
		if err := c.Del(ctx, k).Err(); err != nil {
			tb.Fatal(err)
		}
	}
}

// allKeys returns the keys matching pattern, on every master of a cluster.
func allKeys(tb testing.TB, c redis.UniversalClient, pattern string) []string {
	tb.Helper()
	ctx := context.Background()
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		keys, err := c.Keys(ctx, pattern).Result()
		if err != nil {
			tb.Fatal(err)
		}
		return keys
	}
	var mu sync.Mutex
	var keys []string
	err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		k, err := n.Keys(ctx, pattern).Result()
		mu.Lock()
		keys = append(keys, k...)
		mu.Unlock()
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return keys
}

// A process that ran through the loss (an assignd that cached the layout of
// before) needs no restart after a restore whose bucket layout differs: the
// enrollment script refuses its stale layout and it reloads. Here the buckets
// had grown a generation and the restore rebuilds one, sized for the cap.
func TestRestore_RunningProcessReloadsTheLayout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		e := mustCreate(t, s, newExperiment("restore-grown", 100, 1))
		running := redisstore.New(c, s.Keys())
		before := map[string]string{}
		for i := range 60 {
			before[fmt.Sprint("early-", i)] = mustEnroll(t, running, e.ID, fmt.Sprint("early-", i)).Group
		}
		max := int64(10_000)
		if _, err := s.UpdateExperiment(ctx, e.ID, assign.ExperimentUpdate{MaxSampleSize: &max}, "alice"); err != nil {
			t.Fatal(err)
		}
		for i := range 60 {
			before[fmt.Sprint("late-", i)] = mustEnroll(t, running, e.ID, fmt.Sprint("late-", i)).Group
		}
		saved, err := s.FindExperimentByID(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		members := readMembers(t, s, e.ID)
		flush(t, c, s.Keys().Namespace)

		cfg := *saved
		cfg.Stats = nil
		if n, err := s.Restore(ctx, &cfg, members); err != nil || n != 120 {
			t.Fatalf("restored %d (%v), want 120", n, err)
		}
		for u, g := range before {
			if res := mustEnroll(t, running, e.ID, u); res.Group != g || res.New {
				t.Fatalf("%s through the running process: %+v, want %s (not new)", u, *res, g)
			}
		}
		if res := mustEnroll(t, running, e.ID, "after"); !res.New {
			t.Fatalf("a new user: %+v", *res)
		}
		if n := checkCounts(t, s, e.ID); n != 121 {
			t.Fatalf("n=%d, want 121", n)
		}
	})
}
