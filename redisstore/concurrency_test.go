package redisstore_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
)

// TestEnroll_Concurrent runs against the real Redis only: miniredis
// serialises everything and would prove nothing about races.
func TestEnroll_Concurrent(t *testing.T) {
	s, _ := MustOpenRedisStore(t, 64)
	ctx := testenv.Context(t)

	t.Run("CapIsExact", func(t *testing.T) {
		mustCreate(t, s, newExperiment("rush", 250, 1))
		const users = 1000
		results := make([]*assign.Enrollment, users)
		errs := make([]error, users)
		var start, done sync.WaitGroup
		start.Add(1)
		for i := range users {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait() // all at once
				results[i], errs[i] = s.Enroll(ctx, assign.EnrollRequest{ExperimentID: "rush", UserID: fmt.Sprintf("user-%04d", i)})
			}()
		}
		start.Done()
		done.Wait()
		enrolled, full := 0, 0
		for i, res := range results {
			if errs[i] != nil {
				t.Fatalf("user %d: %v", i, errs[i])
			} else if res.Enrolled {
				enrolled++
			} else if res.Reason == assign.ReasonSampleFull {
				full++
			} else {
				t.Fatalf("user %d: %+v", i, res)
			}
		}
		if enrolled != 250 || full != 750 {
			t.Fatalf("enrolled=%d sample_full=%d, want 250 and 750", enrolled, full)
		}
		if n := checkCounts(t, s, "rush"); n != 250 {
			t.Fatalf("n=%d, want 250", n)
		}
	})

	t.Run("SameUser", func(t *testing.T) {
		mustCreate(t, s, newExperiment("same", 250, 1))
		const callers = 50
		results := make([]*assign.Enrollment, callers)
		errs := make([]error, callers)
		var start, done sync.WaitGroup
		start.Add(1)
		for i := range callers {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				results[i], errs[i] = s.Enroll(ctx, assign.EnrollRequest{ExperimentID: "same", UserID: "the-user"})
			}()
		}
		start.Done()
		done.Wait()
		news := 0
		for i, res := range results {
			if errs[i] != nil {
				t.Fatalf("caller %d: %v", i, errs[i])
			} else if !res.Enrolled || res.Group != results[0].Group {
				t.Fatalf("caller %d: %+v, caller 0: %+v", i, res, results[0])
			}
			if res.New {
				news++
			}
		}
		if news != 1 {
			t.Fatalf("%d callers were told they were new, want 1", news)
		}
		if n := checkCounts(t, s, "same"); n != 1 {
			t.Fatalf("n=%d, want 1", n)
		}
	})
}

// TestEnroll_ConcurrentLayer: the same users ask both experiments of a layer
// from several goroutines at once while an admin keeps pausing and resuming
// one of them, which moves its slots to the other and back. Only the owner
// check in the enrollment script keeps users who joined one experiment out of
// the other then: no user may end up a member of both. Real Redis only.
func TestEnroll_ConcurrentLayer(t *testing.T) {
	s, _ := MustOpenRedisStore(t, 64)
	ctx := testenv.Context(t)
	mustCreate(t, s, newLayered("ca", "race"))
	mustCreate(t, s, newLayered("cb", "race"))

	const users, callers, rounds = 300, 4, 3
	errs := make(chan error, users*callers+1)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range users {
		user := fmt.Sprintf("user-%d", i)
		for k := range callers {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				order := []string{"ca", "cb"}
				if k%2 == 1 {
					order[0], order[1] = order[1], order[0]
				}
				for range rounds {
					for _, id := range order {
						if _, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: id, UserID: user}); err != nil {
							errs <- err
							return
						}
					}
				}
			}()
		}
	}
	done.Add(1)
	go func() {
		defer done.Done()
		start.Wait()
		for i := range 40 {
			st := assign.StatusPaused
			if i%2 == 1 {
				st = assign.StatusRunning
			}
			if _, err := s.UpdateExperiment(ctx, "ca", assign.ExperimentUpdate{Status: &st}, "admin"); err != nil {
				errs <- err
				return
			}
		}
	}()
	start.Done()
	done.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var inA, inB int
	for i := range users {
		user := fmt.Sprintf("user-%d", i)
		_, a, err := s.MemberGroup(ctx, "ca", user)
		if err != nil {
			t.Fatal(err)
		}
		_, b, err := s.MemberGroup(ctx, "cb", user)
		if err != nil {
			t.Fatal(err)
		}
		if a && b {
			t.Fatalf("%s is a member of both experiments of the layer", user)
		}
		owner, ok, err := s.LayerOwner(ctx, "race", user)
		if err != nil {
			t.Fatal(err)
		} else if ok != (a || b) || (a && owner != "ca") || (b && owner != "cb") {
			t.Fatalf("%s: member of ca=%v cb=%v, owner %q (%v)", user, a, b, owner, ok)
		}
		if a {
			inA++
		} else if b {
			inB++
		}
	}
	// ca ends running (the last toggle resumes it): everyone asked both, so
	// nearly everyone joined one of the two (cb always runs).
	if inA+inB < users*9/10 {
		t.Fatalf("members: ca %d, cb %d of %d users", inA, inB, users)
	}
	if na, nb := checkCounts(t, s, "ca"), checkCounts(t, s, "cb"); na != int64(inA) || nb != int64(inB) {
		t.Fatalf("counts ca=%d cb=%d, members %d, %d", na, nb, inA, inB)
	}
	t.Logf("ca %d, cb %d members of %d users", inA, inB, users)
}

// Overrides under concurrency: 1,000 users rush a cap of 250 while 100 QA
// users with overrides call at the same time, each several times. The cap
// stays exact for the others (no override takes a place), every QA user
// gets their forced group every time, none is recorded or counted, and each
// override's answer is exported exactly once.
func TestEnroll_ConcurrentOverrides(t *testing.T) {
	s, c := MustOpenRedisStore(t, 64)
	ctx := testenv.Context(t)
	x := newExperiment("rush-ovr", 250, 1)
	x.Overrides = map[string]string{}
	for i := range 100 {
		x.Overrides[fmt.Sprintf("qa-%03d", i)] = []string{"control", "treatment"}[i%2]
	}
	mustCreate(t, s, x)
	type call struct {
		user string
		qa   bool
	}
	var calls []call
	for i := range 1000 {
		calls = append(calls, call{fmt.Sprintf("user-%04d", i), false})
	}
	for r := range 3 {
		for i := range 100 {
			calls = append(calls, call{fmt.Sprintf("qa-%03d", (i+r*37)%100), true})
		}
	}
	results := make([]*assign.Enrollment, len(calls))
	errs := make([]error, len(calls))
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range calls {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			results[i], errs[i] = s.Enroll(ctx, assign.EnrollRequest{ExperimentID: "rush-ovr", UserID: calls[i].user})
		}()
	}
	start.Done()
	done.Wait()
	enrolled, full := 0, 0
	for i, res := range results {
		switch {
		case errs[i] != nil:
			t.Fatalf("%s: %v", calls[i].user, errs[i])
		case calls[i].qa:
			if !res.Enrolled || !res.Override || res.New || res.Group != x.Overrides[calls[i].user] {
				t.Fatalf("%s: %+v, want the override %s", calls[i].user, res, x.Overrides[calls[i].user])
			}
		case res.Override:
			t.Fatalf("%s: %+v marked override", calls[i].user, res)
		case res.Enrolled:
			enrolled++
		case res.Reason == assign.ReasonSampleFull:
			full++
		default:
			t.Fatalf("%s: %+v", calls[i].user, res)
		}
	}
	if enrolled != 250 || full != 750 {
		t.Fatalf("enrolled=%d sample_full=%d, want 250 and 750", enrolled, full)
	}
	if n := checkCounts(t, s, "rush-ovr"); n != 250 {
		t.Fatalf("n=%d, want 250", n)
	}
	if ok, err := memberOf(t, s, "rush-ovr", "qa-007"); err != nil || ok {
		t.Fatalf("an override user is recorded as a member: %v %v", ok, err)
	}
	if n := overrideEvents(t, s, c, "rush-ovr"); n != 100 {
		t.Fatalf("%d override events, want 100: one per override", n)
	}
}
