package redisstore_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// BenchmarkEnroll measures Store.Enroll against the real Redis from 32
// goroutines per CPU: new users (the full decision), returning members (the
// sticky read), the same answered by the answer cache, new users of an experiment in a layer, and new users with
// the automatic pipeliner batching the script calls (as assignd does).
func BenchmarkEnroll(b *testing.B) {
	b.Run("New", func(b *testing.B) {
		s, _ := MustOpenRedisStore(b, 64)
		benchmarkEnroll(b, s, func(i int64) string { return "new-" + strconv.FormatInt(i, 10) })
	})
	b.Run("Existing", func(b *testing.B) {
		s, _ := MustOpenRedisStore(b, 64)
		ctx := testenv.Context(b)
		mustCreate(b, s, newExperiment("bench", 1<<40, 1))
		for i := range 1000 {
			if _, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: "bench", UserID: "member-" + strconv.Itoa(i)}); err != nil {
				b.Fatal(err)
			}
		}
		benchmarkEnroll(b, s, func(i int64) string { return "member-" + strconv.FormatInt(i%1000, 10) })
	})
	b.Run("ExistingCached", func(b *testing.B) {
		// Returning members answered by the answer cache (no Redis call).
		s, _ := MustOpenRedisStore(b, 64)
		withAnswerCache(b, s)
		ctx := testenv.Context(b)
		mustCreate(b, s, newExperiment("bench", 1<<40, 1))
		within(b, time.Second, "the members' answers to be kept", func() bool {
			before := s.Answers.Stats().Hits
			for i := range 1000 {
				if _, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: "bench", UserID: "member-" + strconv.Itoa(i)}); err != nil {
					b.Fatal(err)
				}
			}
			return s.Answers.Stats().Hits-before == 1000
		})
		benchmarkEnroll(b, s, func(i int64) string { return "member-" + strconv.FormatInt(i%1000, 10) })
	})
	b.Run("NewInLayer", func(b *testing.B) {
		// The layer's only experiment: every user is offered it, and the
		// script also reads the slot and the owner and writes the owner.
		s, _ := MustOpenRedisStore(b, 64)
		e := newExperiment("bench", 1<<40, 1)
		e.Layer = "bench-layer"
		mustCreate(b, s, e)
		benchmarkEnroll(b, s, func(i int64) string { return "new-" + strconv.FormatInt(i, 10) })
	})
	b.Run("NewPipelined", func(b *testing.B) {
		s, c := MustOpenRedisStore(b, 64)
		ap, err := c.AsyncAutoPipeline()
		if err != nil {
			b.Fatal(err)
		}
		s.Pipeline = ap
		benchmarkEnroll(b, s, func(i int64) string { return "new-" + strconv.FormatInt(i, 10) })
	})
}

func benchmarkEnroll(b *testing.B, s *redisstore.Store, user func(int64) string) {
	ctx := testenv.Context(b)
	if _, err := s.FindExperimentByID(ctx, "bench"); err != nil {
		mustCreate(b, s, newExperiment("bench", 1<<40, 1))
	}
	var next atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: "bench", UserID: user(next.Add(1))})
			if err != nil {
				b.Error(err)
				return
			} else if !res.Enrolled {
				b.Errorf("not enrolled: %+v", res)
				return
			}
		}
	})
}
