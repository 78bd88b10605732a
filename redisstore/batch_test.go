package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// pipelineCounter counts the pipelines of script calls a client sends, and
// their EVALSHA calls.
type pipelineCounter struct{ pipelines, evalsha atomic.Int64 }

func (h *pipelineCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *pipelineCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (h *pipelineCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		n := int64(0)
		for _, c := range cmds {
			if strings.EqualFold(c.Name(), "evalsha") {
				n++
			}
		}
		if n > 0 {
			h.pipelines.Add(1)
			h.evalsha.Add(n)
		}
		return next(ctx, cmds)
	}
}

// EnrollMany answers as Enroll would, one by one, in the order asked; an
// unknown experiment or a bad id fails alone; on one Redis the whole batch
// is one pipeline.
func TestEnrollmentService_EnrollMany(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		ids := []string{"many-a", "many-b", "many-c", "many-d", "many-e"}
		for _, id := range ids {
			mustCreate(t, s, newExperiment(id, 1000, 1))
		}
		mustCreate(t, s, newExperiment("many-full", 1, 1))
		mustEnroll(t, s, "many-full", "someone")
		counter := &pipelineCounter{}
		if _, single := c.(*redis.Client); single {
			c.AddHook(counter)
		}

		for u := range 20 {
			user := fmt.Sprintf("batch-user-%d", u)
			reqs := []assign.EnrollRequest{}
			for _, id := range append(append([]string{}, ids...), "many-missing", "many-full") {
				reqs = append(reqs, assign.EnrollRequest{ExperimentID: id, UserID: user})
			}
			got := s.EnrollMany(ctx, reqs)
			if len(got) != len(reqs) {
				t.Fatalf("%d answers for %d requests", len(got), len(reqs))
			}
			for i, id := range ids {
				r := got[i]
				if r.Err != nil || r.Enrollment == nil || !r.Enrollment.Enrolled || !r.Enrollment.New || r.Enrollment.ExperimentID != id {
					t.Fatalf("%s: %+v, %v: want a new member", id, r.Enrollment, r.Err)
				}
				// Enroll alone now gives the same group, as an existing member.
				again := mustEnroll(t, s, id, user)
				if again.Group != r.Enrollment.Group || again.New {
					t.Fatalf("%s: batch %+v, then Enroll %+v", id, r.Enrollment, again)
				}
			}
			if err := got[5].Err; assign.ErrorCode(err) != assign.ENOTFOUND {
				t.Fatalf("missing experiment: %v, want ENOTFOUND", err)
			}
			if r := got[6]; r.Err != nil || r.Enrollment.Enrolled || r.Enrollment.Reason != assign.ReasonSampleFull {
				t.Fatalf("full experiment: %+v, %v", r.Enrollment, r.Err)
			}
			// A second batch answers the members' groups, nothing new.
			for i, r := range s.EnrollMany(ctx, reqs[:len(ids)]) {
				if r.Err != nil || r.Enrollment.New || r.Enrollment.Group != got[i].Enrollment.Group {
					t.Fatalf("%s again: %+v, %v", ids[i], r.Enrollment, r.Err)
				}
			}
		}
		for _, id := range ids {
			if n := checkCounts(t, s, id); n != 20 {
				t.Fatalf("%s: n=%d, want 20", id, n)
			}
		}
		if _, single := c.(*redis.Client); single {
			// 20 users × 2 batches of 6 and 5 script calls, one pipeline
			// each (the 2 × 5 Enroll checks above are single calls).
			if got, want := counter.evalsha.Load(), int64(20*(6+5)); got != want {
				t.Errorf("%d EVALSHA in pipelines, want %d", got, want)
			}
			if got, want := counter.pipelines.Load(), int64(20*2); got != want {
				t.Errorf("%d pipelines, want %d (one per batch)", got, want)
			}
		}

		t.Run("ScriptFlushed", func(t *testing.T) {
			// NOSCRIPT in the batch: each call is settled by the single path,
			// which loads the script.
			if err := c.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			reqs := []assign.EnrollRequest{{ExperimentID: "many-a", UserID: "flushed"}, {ExperimentID: "many-b", UserID: "flushed"}}
			for i, r := range s.EnrollMany(ctx, reqs) {
				if r.Err != nil || !r.Enrollment.Enrolled {
					t.Fatalf("%s after SCRIPT FLUSH: %+v, %v", reqs[i].ExperimentID, r.Enrollment, r.Err)
				}
			}
		})

		t.Run("StaleDefinition", func(t *testing.T) {
			// Another process caches the bucket layout, then members open a
			// new generation: its batch is refused as stale by the script
			// and settled by the single path, nobody enrolled twice.
			mustCreate(t, s, newExperiment("many-gen", 2_000, 1))
			mustCreate(t, s, newExperiment("many-other", 2_000, 1))
			stale := redisstore.New(c, s.Keys())
			first := stale.EnrollMany(ctx, []assign.EnrollRequest{{ExperimentID: "many-gen", UserID: "early"}, {ExperimentID: "many-other", UserID: "early"}})
			if first[0].Err != nil || first[1].Err != nil {
				t.Fatalf("first batch: %v, %v", first[0].Err, first[1].Err)
			}
			for i := range 400 { // past 320 members: a generation of 8 buckets
				mustEnroll(t, s, "many-gen", fmt.Sprintf("g-%d", i))
			}
			for i, user := range []string{"early", "late-1", "late-2"} {
				got := stale.EnrollMany(ctx, []assign.EnrollRequest{{ExperimentID: "many-gen", UserID: user}, {ExperimentID: "many-other", UserID: user}})
				for j, r := range got {
					if r.Err != nil || !r.Enrollment.Enrolled || r.Enrollment.New != (i > 0) {
						t.Fatalf("%s, experiment %d: %+v, %v", user, j, r.Enrollment, r.Err)
					}
				}
				if i == 0 && got[0].Enrollment.Group != first[0].Enrollment.Group {
					t.Fatalf("early: %s, then %s", first[0].Enrollment.Group, got[0].Enrollment.Group)
				}
			}
			if n := checkCounts(t, s, "many-gen"); n != 403 {
				t.Fatalf("n=%d, want 403", n)
			}
		})

		t.Run("BadUser", func(t *testing.T) {
			got := s.EnrollMany(ctx, []assign.EnrollRequest{{ExperimentID: "many-a", UserID: ""}, {ExperimentID: "many-b", UserID: ""},
				{ExperimentID: "many-a", UserID: "tv-user", Platform: "tv"}})
			for _, r := range got {
				if assign.ErrorCode(r.Err) != assign.EINVALID {
					t.Fatalf("empty user or bad platform: %v, want EINVALID", r.Err)
				}
			}
		})
	})
}
