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
