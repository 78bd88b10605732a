package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/answercache"
	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/rediscluster"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// withAnswerCache gives s an answer cache and runs its listener until the
// test ends; it returns once the cache answers.
func withAnswerCache(tb testing.TB, s *redisstore.Store) *answercache.Cache {
	tb.Helper()
	s.Answers = answercache.New(1<<12, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Listen(ctx)
	}()
	tb.Cleanup(func() { cancel(); <-done })
	within(tb, 5*time.Second, "the answer cache to answer", s.Answers.Serving)
	return s.Answers
}

// within polls ok until it holds, for at most limit.
func within(tb testing.TB, limit time.Duration, what string, ok func() bool) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			tb.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The answers the cache keeps are answered again without Redis (the hits
// grow, the answer is the same, an existing member's); each configuration
// change reaches the cache within redisstore.HeartbeatWindow; the refusals
// that depend on the claims are answered again only for the same
// eligibility; not_running is never kept.
func TestAnswers_KeptAndInvalidated(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		cache := withAnswerCache(t, s)
		e := newExperiment("kept", 2, 1)
		e.Eligibility = []assign.Rule{{Claim: "first_order", Equals: true}}
		mustCreate(t, s, e)
		yes, no := map[string]any{"first_order": true}, map[string]any{"first_order": false}
		enroll := func(user string, claims map[string]any) *assign.Enrollment {
			t.Helper()
			res, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: "kept", UserID: user, Claims: claims})
			if err != nil {
				t.Fatalf("Enroll(%s): %v", user, err)
			}
			return res
		}
		// fromCache enrolls and reports whether the answer came from the cache.
		fromCache := func(user string, claims map[string]any) (*assign.Enrollment, bool) {
			t.Helper()
			before := cache.Stats().Hits
			res := enroll(user, claims)
			return res, cache.Stats().Hits > before
		}
		// settles waits until the configuration change reached the cache:
		// the user's answer is want.
		settles := func(user string, claims map[string]any, want func(*assign.Enrollment) bool) {
			t.Helper()
			within(t, redisstore.HeartbeatWindow, "the change to reach the cache", func() bool { return want(enroll(user, claims)) })
		}
		update := func(upd assign.ExperimentUpdate) {
			t.Helper()
			if _, err := s.UpdateExperiment(ctx, "kept", upd, "ops"); err != nil {
				t.Fatal(err)
			}
		}

		first := enroll("alice", yes)
		if !first.New {
			t.Fatalf("alice: %+v, want a new member", first)
		}
		// keptAs asks until the user's answer comes from the cache: the
		// creation's own notice may arrive after the first call began and
		// void its answer, and a lapse of the cache's proof on a loaded
		// machine empties it (then the next call keeps it again).
		keptAs := func(user string, claims map[string]any) *assign.Enrollment {
			t.Helper()
			var res *assign.Enrollment
			within(t, 2*time.Second, user+"'s answer to be kept", func() bool {
				r, hit := fromCache(user, claims)
				res = r
				return hit
			})
			return res
		}
		keptAs("alice", yes)
		if again := keptAs("alice", no); again.New || !again.Enrolled || again.Group != first.Group { // a member whatever today's claims
			t.Fatalf("alice again: %+v, want %q as an existing member", again, first.Group)
		}

		// not_eligible is never kept: bob may join through another process.
		puts := cache.Stats().Puts
		if res := enroll("bob", no); res.Reason != assign.ReasonNotEligible {
			t.Fatalf("bob: %+v, want not_eligible", res)
		}
		if res, hit := fromCache("bob", no); hit || res.Reason != assign.ReasonNotEligible || cache.Stats().Puts != puts {
			t.Fatalf("bob again: %+v (from the cache: %v): not_eligible was kept", res, hit)
		}
		other := redisstore.New(c, s.Keys()) // another process, no cache
		if res, err := other.Enroll(ctx, assign.EnrollRequest{ExperimentID: "kept", UserID: "bob", Claims: yes}); err != nil || !res.New {
			t.Fatalf("bob, eligible, through another store: %+v %v", res, err)
		}
		if res := enroll("bob", no); !res.Enrolled {
			t.Fatalf("bob, a member now, not eligible by today's claims: %+v; want his group", res)
		}

		// The cap of 2 is reached.
		if res := enroll("carol", yes); res.Reason != assign.ReasonSampleFull {
			t.Fatalf("carol: %+v, want sample_full", res)
		}
		if res := keptAs("carol", yes); res.Reason != assign.ReasonSampleFull {
			t.Fatalf("carol from the cache: %+v, want sample_full", res)
		}
		max := int64(10)
		update(assign.ExperimentUpdate{MaxSampleSize: &max})
		settles("carol", yes, func(r *assign.Enrollment) bool { return r.Enrolled })

		paused := assign.StatusPaused
		update(assign.ExperimentUpdate{Status: &paused})
		settles("dave", yes, func(r *assign.Enrollment) bool { return r.Reason == assign.ReasonNotRunning })
		puts = cache.Stats().Puts
		if _, hit := fromCache("dave", yes); hit || cache.Stats().Puts != puts {
			t.Fatal("not_running was kept")
		}

		winner := "treatment"
		update(assign.ExperimentUpdate{Winner: &winner})
		settles("alice", yes, func(r *assign.Enrollment) bool { return r.RolledOut && r.Group == winner })
		if res := keptAs("alice", yes); !res.RolledOut || res.Group != winner {
			t.Fatalf("alice after the rollout, from the cache: %+v", res)
		}
	})
}

// The multi-experiment form answers what it can from the cache and asks
// Redis the rest, in one pipeline.
func TestAnswers_EnrollMany(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		cache := withAnswerCache(t, s)
		var reqs []assign.EnrollRequest
		for i := range 3 {
			id := fmt.Sprintf("many-%d", i)
			mustCreate(t, s, newExperiment(id, 100, 1))
			reqs = append(reqs, assign.EnrollRequest{ExperimentID: id, UserID: "u-1"})
		}
		first := s.EnrollMany(ctx, reqs)
		for i, r := range first {
			if r.Err != nil || !r.Enrollment.Enrolled {
				t.Fatalf("%s: %+v %v", reqs[i].ExperimentID, r.Enrollment, r.Err)
			}
		}
		within(t, time.Second, "the answers to be kept", func() bool {
			before := cache.Stats().Hits
			s.EnrollMany(ctx, reqs)
			return cache.Stats().Hits-before == uint64(len(reqs))
		})
		again := s.EnrollMany(ctx, append(reqs, assign.EnrollRequest{ExperimentID: "many-0", UserID: "u-2"}))
		for i, r := range again[:len(reqs)] {
			if r.Err != nil || r.Enrollment.New || r.Enrollment.Group != first[i].Enrollment.Group {
				t.Fatalf("%s again: %+v %v, want %q", reqs[i].ExperimentID, r.Enrollment, r.Err, first[i].Enrollment.Group)
			}
		}
		if r := again[len(reqs)]; r.Err != nil || !r.Enrollment.New {
			t.Fatalf("a new user in the same batch: %+v %v", r.Enrollment, r.Err)
		}
	})
}

// A lost subscription (here killed by Redis) stops the cache until a new one
// is heard, and empties it: nothing kept before is answered after.
func TestListen_LostSubscriptionEmptiesTheCache(t *testing.T) {
	addr := testenv.RedisAddr(t)
	name := "answers-" + strings.TrimSuffix(testenv.Namespace(), ":")
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, ClientName: name})
	t.Cleanup(func() { c.Close() })
	s := newStore(t, c)
	ctx := testenv.Context(t)
	cache := withAnswerCache(t, s)
	mustCreate(t, s, newExperiment("lost", 100, 1))
	within(t, time.Second, "an answer to be kept", func() bool {
		before := cache.Stats().Hits
		mustEnroll(t, s, "lost", "u")
		return cache.Stats().Hits > before
	})
	flushes := cache.Stats().Flushes

	admin := redis.NewClient(&redis.Options{Addr: addr})
	defer admin.Close()
	list, err := admin.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, " name="+name+" ") && strings.Contains(line, "cmd=subscribe") || strings.Contains(line, " name="+name+" ") && strings.Contains(line, " sub=2 ") {
			id := strings.TrimPrefix(strings.Fields(line)[0], "id=")
			if err := admin.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
				t.Fatal(err)
			}
			killed++
		}
	}
	if killed != 1 {
		t.Fatalf("%d subscriptions of the store found, want 1:\n%s", killed, list)
	}
	within(t, 5*time.Second, "the cache to be emptied and answer again", func() bool {
		return cache.Stats().Flushes > flushes && cache.Serving()
	})
	if _, ok := cache.Get(cache.Experiment("lost"), "u"); ok {
		t.Fatal("an answer kept before the subscription was lost is answered after it")
	}
	if res := mustEnroll(t, s, "lost", "u"); !res.Enrolled || res.New {
		t.Fatalf("after the lost subscription: %+v", res)
	}
}

// A killed master of a cluster stops the cache within
// redisstore.HeartbeatWindow, for the whole process, until its replica is
// promoted and every master of the new topology is heard; it answers again
// only after being emptied, so nothing kept before the failover (such as a
// member the promoted replica never received) is answered after it. Both
// ways a master's death reaches the listener: its heartbeats stop coming
// back (a master the subscription is not on), or the subscription itself
// breaks (the master it is on).
func TestListen_FailoverEmptiesTheCache(t *testing.T) {
	for _, subscribed := range []bool{false, true} {
		name := "HeartbeatsStop"
		if subscribed {
			name = "SubscriptionLost"
		}
		t.Run(name, func(t *testing.T) { testFailoverEmptiesTheCache(t, subscribed) })
	}
}

func testFailoverEmptiesTheCache(t *testing.T, killSubscribed bool) {
	cl := testenv.NewCluster(t, rediscluster.Options{NodeTimeout: time.Second})
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	s := newStore(t, c)
	ctx := testenv.Context(t)
	cache := withAnswerCache(t, s)
	// go-redis subscribes on the master of the first channel's slot.
	subscribedTo, err := cl.MasterOf(ctx, s.Keys().ChangeChannel())
	if err != nil {
		t.Fatal(err)
	}
	var id, master string
	for i := 0; id == ""; i++ {
		cand := fmt.Sprintf("failover-%d", i)
		m, err := cl.MasterOf(ctx, redisstore.ConfigKey(s.Keys().Prefix(cand, "")))
		if err != nil {
			t.Fatal(err)
		}
		if (m == subscribedTo) == killSubscribed {
			id, master = cand, m
		}
	}
	mustCreate(t, s, newExperiment(id, 1000, 1))
	within(t, time.Second, "an answer to be kept", func() bool {
		before := cache.Stats().Hits
		mustEnroll(t, s, id, "u")
		return cache.Stats().Hits > before
	})
	flushes := cache.Stats().Flushes
	if err := cl.Kill(master); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// Stopped within the window, plus one heartbeat's round.
	within(t, redisstore.HeartbeatWindow+2*redisstore.HeartbeatInterval, "the cache to stop", func() bool { return !cache.Serving() })
	stopped := time.Since(killed)
	within(t, 60*time.Second, "the cache to answer again after the promotion", func() bool {
		return cache.Serving() && cache.Stats().Flushes > flushes
	})
	t.Logf("killed master %s (subscribed to %s): the cache stopped after %v and answered again, emptied, after %v", master, subscribedTo, stopped, time.Since(killed))
	if _, ok := cache.Get(cache.Experiment(id), "u"); ok {
		t.Fatal("an answer kept before the failover is answered after it")
	}
	within(t, 10*time.Second, "the promoted master to enroll", func() bool {
		res, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: id, UserID: "u"})
		return err == nil && res.Enrolled
	})
}

// An experiment read first by a GET or a listing (the console, assignctl)
// is cached as well as one first met by an enrollment.
func TestAnswers_AfterAReadFirst(t *testing.T) {
	s, _ := openRedis(t)
	ctx := testenv.Context(t)
	cache := withAnswerCache(t, s)
	mustCreate(t, s, newExperiment("read-first", 100, 1))
	fresh := redisstore.New(s.Client(), s.Keys()) // a process that has read nothing yet
	fresh.Answers = cache
	if _, err := fresh.FindExperimentByID(ctx, "read-first"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fresh.FindExperiments(ctx, assign.ExperimentFilter{Limit: 10}); err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "an answer to be kept", func() bool {
		before := cache.Stats().Hits
		mustEnroll(t, fresh, "read-first", "u")
		return cache.Stats().Hits > before
	})
}

// Publishing the change does not replace the exporter's changes set: an
// update still records the experiment's stream there.
func TestAnswers_UpdateStillNotesTheChange(t *testing.T) {
	s, c := openRedis(t)
	ctx := testenv.Context(t)
	withAnswerCache(t, s)
	mustCreate(t, s, newExperiment("noted", 100, 1))
	paused := assign.StatusPaused
	if _, err := s.UpdateExperiment(ctx, "noted", assign.ExperimentUpdate{Status: &paused}, "ops"); err != nil {
		t.Fatal(err)
	}
	events := redisstore.EventsKey(s.Keys().Prefix("noted", ""))
	if _, err := c.ZScore(ctx, s.Keys().Changes(), events).Result(); err != nil {
		t.Fatalf("the changes set %s has no entry for %s after an update: %v", s.Keys().Changes(), events, err)
	}
}

// A change made through a process reaches its own cache before the call
// returns, whenever the published notice arrives: here it never does (no
// listener runs; the cache is told to answer), and still no caller of this
// store sees an answer from before its change.
func TestAnswers_OwnChangesAtOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		s.Answers = answercache.New(1<<10, time.Minute)
		s.Answers.ServeUntil(time.Now().Add(time.Hour))
		mustCreate(t, s, newExperiment("own", 100, 1))
		first := mustEnroll(t, s, "own", "alice")
		before := s.Answers.Stats().Hits
		if again := mustEnroll(t, s, "own", "alice"); again.Group != first.Group || s.Answers.Stats().Hits != before+1 {
			t.Fatalf("alice again: %+v, not from the cache", again)
		}
		winner := "control"
		if first.Group == "control" {
			winner = "treatment"
		}
		if _, err := s.UpdateExperiment(ctx, "own", assign.ExperimentUpdate{Winner: &winner}, "ops"); err != nil {
			t.Fatal(err)
		}
		if res := mustEnroll(t, s, "own", "alice"); !res.RolledOut || res.Group != winner {
			t.Fatalf("alice right after the rollout through this store: %+v, want %q rolled out", res, winner)
		}
	})
}
