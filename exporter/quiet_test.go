package exporter_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/redisstore"
)

// readCounter counts the XREADGROUP commands a client sends and those that
// name one stream.
type readCounter struct {
	watch        atomic.Value // string
	reads, named atomic.Int64
}

func (h *readCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *readCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.see(cmd); return next(ctx, cmd) }
}
func (h *readCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			h.see(c)
		}
		return next(ctx, cmds)
	}
}
func (h *readCounter) see(cmd redis.Cmder) {
	if !strings.EqualFold(cmd.Name(), "xreadgroup") {
		return
	}
	h.reads.Add(1)
	w, _ := h.watch.Load().(string)
	for _, a := range cmd.Args() {
		if s, ok := a.(string); ok && s == w {
			h.named.Add(1)
			return
		}
	}
}

// TestExporter_QuietStreams: the stream of a stopped experiment, once read
// to its end, is left out of every read while a running experiment's stream
// is polled; resuming the experiment wakes it (its enrollments arrive); and
// a configuration event written without the change record (a process that
// died in between) still arrives by the periodic sweep.
func TestExporter_QuietStreams(t *testing.T) {
	forEachRedis(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		counter := &readCounter{}
		b.Client.AddHook(counter)
		store := redisstore.New(b.Client, b.Keys)
		if err := store.Load(ctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"live", "done"} {
			e := &assign.Experiment{ID: id, MaxSampleSize: 100_000, SamplingProbability: 1,
				Groups: []assign.Group{{Name: "a", Probability: 0.5}, {Name: "b", Probability: 0.5}}}
			if err := store.CreateExperiment(ctx, e); err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				if _, err := store.Enroll(ctx, assign.EnrollRequest{ExperimentID: id, UserID: fmt.Sprint("early-", i)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		stopped := assign.StatusStopped
		if _, err := store.UpdateExperiment(ctx, "done", assign.ExperimentUpdate{Status: &stopped}, "ops"); err != nil {
			t.Fatal(err)
		}
		done := redisstore.EventsKey(b.Keys.Prefix("done", ""))
		counter.watch.Store(done)

		sink := newMemSink()
		e := newExporter(b, sink, "q1")
		e.SweepInterval = time.Hour // no sweep until the last part
		r := start(e)
		defer r.stop(t)
		waitFor(t, "the stopped stream to turn quiet", func() bool { return slices.Contains(e.Quiet(), done) })
		if slices.Contains(e.Quiet(), redisstore.EventsKey(b.Keys.Prefix("live", ""))) {
			t.Fatal("the running experiment's stream is quiet")
		}

		// Traffic on the live experiment keeps the exporter polling.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = store.Enroll(ctx, assign.EnrollRequest{ExperimentID: "live", UserID: fmt.Sprint("live-", i)})
				time.Sleep(2 * time.Millisecond)
			}
		}()
		before, named := counter.reads.Load(), counter.named.Load()
		waitFor(t, "50 reads of the live stream", func() bool { return counter.reads.Load()-before >= 50 })
		close(stop)
		wg.Wait()
		if n := counter.named.Load() - named; n != 0 {
			t.Fatalf("the quiet stream was named in %d of %d reads, want 0", n, counter.reads.Load()-before)
		}

		// Resumed: woken by its change record, its new members arrive.
		running := assign.StatusRunning
		if _, err := store.UpdateExperiment(ctx, "done", assign.ExperimentUpdate{Status: &running}, "ops"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Enroll(ctx, assign.EnrollRequest{ExperimentID: "done", UserID: "after-resume"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the resumed experiment's enrollment", func() bool {
			return slices.ContainsFunc(sink.rows(), func(r warehouseRow) bool { return r.UserID == "after-resume" })
		})

		// A configuration event with no change record (its process died in
		// between) reaches a quiet stream by the sweep alone. A fresh
		// exporter, whose first look at the change records only notes them,
		// so no record of before wakes the stream again.
		if b.Name != "redis" {
			return // the same code on every backend; once is enough for this slow part
		}
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		if _, err := store.UpdateExperiment(ctx, "done", assign.ExperimentUpdate{Status: &stopped}, "ops"); err != nil {
			t.Fatal(err)
		}
		e3 := newExporter(b, sink, "q3")
		e3.SweepInterval = 5 * time.Second
		r3 := start(e3)
		defer r3.stop(t)
		waitFor(t, "quiet again", func() bool { return slices.Contains(e3.Quiet(), done) })
		configEvent(t, b, done, "done", "", 99)
		time.Sleep(300 * time.Millisecond)
		if v := sink.version("done"); v == 99 {
			t.Fatal("a quiet stream was read without a change record or a sweep")
		}
		waitFor(t, "the event without a change record, by the sweep", func() bool { return sink.version("done") == 99 })
	})
}

// TestExporter_DrainReadsQuietStreams: a graceful stop reads quiet streams
// too, so an event written there just before (no change record announced it
// yet) is not left behind, which on the embedded Redis would lose it.
func TestExporter_DrainReadsQuietStreams(t *testing.T) {
	forEachRedis(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		store := redisstore.New(b.Client, b.Keys)
		if err := store.Load(ctx); err != nil {
			t.Fatal(err)
		}
		e := &assign.Experiment{ID: "ending", MaxSampleSize: 10, SamplingProbability: 1, Status: assign.StatusStopped,
			Groups: []assign.Group{{Name: "a", Probability: 1}}}
		if err := store.CreateExperiment(ctx, e); err != nil {
			t.Fatal(err)
		}
		stream := redisstore.EventsKey(b.Keys.Prefix("ending", ""))
		sink := newMemSink()
		x := newExporter(b, sink, "d1")
		x.SweepInterval = time.Hour
		r := start(x)
		waitFor(t, "the stopped stream to turn quiet", func() bool { return slices.Contains(x.Quiet(), stream) })
		configEvent(t, b, stream, "ending", "", 7)
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		if v := sink.version("ending"); v != 7 {
			t.Fatalf("warehouse version %d after a graceful stop, want 7", v)
		}
	})
}

// TestExporter_KeepsStreamsDroppedFromTheSet: a stream that disappears from
// the stream set (its node lost the entry in a failover) while it still
// exists is still exported, and written back into the set.
func TestExporter_KeepsStreamsDroppedFromTheSet(t *testing.T) {
	forEachRedis(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		key := createExperiment(t, b, "dropped", "", 1)
		want := enroll(t, b, key, "dropped", "early-", 5, 0)
		sink := newMemSink()
		r := start(newExporter(b, sink, "k1"))
		defer r.stop(t)
		waitFor(t, "the first rows", func() bool { return sink.count() == 5 })
		if err := b.Client.SRem(ctx, b.Keys.Streams(), key).Err(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // a few refreshes (50 ms) without it in the set
		want = append(want, enroll(t, b, key, "dropped", "late-", 5, 100)...)
		waitFor(t, "the rows written after the stream left the set", func() bool { return sink.count() == len(want) })
		if ok, err := b.Client.SIsMember(ctx, b.Keys.Streams(), key).Result(); err != nil || !ok {
			t.Fatalf("the stream is not back in the set (%v, %v)", ok, err)
		}
	})
}
