package exporter_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/exporter"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/warehousetest"
)

func TestExperimentID(t *testing.T) {
	for _, ns := range []string{"", "t-1234abcd:"} {
		k := redisstore.Keys{Namespace: ns}
		for _, c := range []struct{ id, layer string }{
			{"f380739f-62f3-4316-8acf-93ed5744cb9e", ""},
			{"checkout.v2_b", "homepage"},
		} {
			got, err := exporter.ExperimentID(k, redisstore.EventsKey(k.Prefix(c.id, c.layer)))
			if err != nil {
				t.Fatal(err)
			} else if got != c.id {
				t.Fatalf("ExperimentID=%q, want %q", got, c.id)
			}
		}
		for _, bad := range []string{"x:events", ns + "{exp:}:events", ns + "{exp:a}", ns + "{layer:l}:events", "other:{exp:a}:events"} {
			if ns == "" && bad == "other:{exp:a}:events" {
				continue
			}
			if id, err := exporter.ExperimentID(k, bad); err == nil {
				t.Fatalf("ExperimentID(%q)=%q, want an error", bad, id)
			}
		}
	}
}

// TestExporter_RoundTrip: N events become exactly N rows with the right
// group and time, in PostgreSQL and DuckDB, from miniredis and Redis.
func TestExporter_RoundTrip(t *testing.T) {
	for _, sinkName := range []string{"postgres", "duckdb"} {
		t.Run(sinkName, func(t *testing.T) {
			forEachRedis(t, func(t *testing.T, b backend) {
				var w warehouse.Warehouse
				if sinkName == "postgres" {
					w, _ = pgSink(t, "")
				} else {
					w = duckSink(t)
				}
				k1 := createExperiment(t, b, "exp-1", "", 1)
				k2 := createExperiment(t, b, "exp-2", "layer-a", 1)
				want := enroll(t, b, k1, "exp-1", "u", 700, 0)
				want = append(want, enroll(t, b, k2, "exp-2", "v", 333, 5)...)
				// A repeated event (a replayed script call) must not make a
				// second row, nor change the first.
				enroll(t, b, k1, "exp-1", "u", 1, 99999)
				configEvent(t, b, k1, "exp-1", "", 2)

				e := newExporter(b, w, "c1")
				r := start(e)
				waitFor(t, "the streams to drain", func() bool { return drained(t, e) })
				if err := r.stop(t); err != nil {
					t.Fatal(err)
				}
				warehousetest.Equal(t, allRows(t, w), want)
				if st := e.Stats(); st.Rows != uint64(len(want))+1 || st.Experiments != 3 || st.Batches == 0 {
					t.Fatalf("Stats=%+v, want Rows=%d Experiments=3", st, len(want)+1)
				}
			})
		})
	}
}

// TestExporter_CrashAfterCommit stops the exporter between the warehouse
// commit and the acknowledgement, then restarts it: 0 lost, 0 duplicated.
func TestExporter_CrashAfterCommit(t *testing.T) {
	forEachRedis(t, func(t *testing.T, b backend) {
		w, pool := pgSink(t, "")
		k := createExperiment(t, b, "exp-1", "", 1)
		want := enroll(t, b, k, "exp-1", "u", 1000, 0)

		e := newExporter(b, w, "c1")
		crash := errors.New("crash")
		commits := 0
		exporter.SetAfterCommit(e, func() error {
			if commits++; commits == 2 {
				return crash
			}
			return nil
		})
		if err := e.Run(context.Background()); !errors.Is(err, crash) {
			t.Fatalf("Run=%v, want the crash", err)
		}
		// The second batch is in the warehouse but still pending in Redis
		// (with, maybe, the third, read while the second was written).
		bl, err := e.Backlog(context.Background())
		if err != nil {
			t.Fatal(err)
		} else if bl.Pending != 200 && bl.Pending != 400 {
			t.Fatalf("pending after the crash=%d, want 200 or 400", bl.Pending)
		}
		// 400 entries: the config event and 399 enrollments.
		if n := pgCount(t, pool, w); n != 399 {
			t.Fatalf("rows after the crash=%d, want 399", n)
		}

		// Same consumer name: it re-reads its own pending entries first.
		e2 := newExporter(b, w, "c1")
		r := start(e2)
		waitFor(t, "the streams to drain", func() bool { return drained(t, e2) })
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		warehousetest.Equal(t, allRows(t, w), want)
		if n := pgCount(t, pool, w); n != len(want) {
			t.Fatalf("rows=%d, want %d", n, len(want))
		}
		if got := e2.Stats().Rows; got != 801 {
			t.Fatalf("second run wrote %d rows, want 801 (200 replayed + 601 new)", got)
		}
	})
}

// TestExporter_WarehouseDown: PostgreSQL refuses connections at the start
// and again in the middle; enrollment goes on (the stream absorbs) and
// nothing is lost once it is back.
func TestExporter_WarehouseDown(t *testing.T) {
	b := realRedis(t)
	px := newProxy(t, "127.0.0.1:5432")
	w, pool := pgSink(t, "postgres://postgres@"+px.addr+"/test?sslmode=disable&connect_timeout=2")
	k := createExperiment(t, b, "exp-1", "", 1)
	want := enroll(t, b, k, "exp-1", "u", 500, 0)

	e := newExporter(b, w, "c1")
	r := start(e)
	waitFor(t, "failed attempts while down", func() bool { return e.Stats().Failures >= 3 })
	// Still down: events keep arriving and wait in the stream.
	want = append(want, enroll(t, b, k, "exp-1", "v", 500, 1000)...)
	bl, err := e.Backlog(context.Background())
	if err != nil {
		t.Fatal(err)
	} else if bl.Length != 1001 || bl.OldestPendingAge <= 0 {
		t.Fatalf("backlog while down: %+v, want length 1001 and an age", bl)
	}

	px.start(t)
	waitFor(t, "the first rows", func() bool { return pgCount(t, pool, w) > 0 })
	px.stop()
	failures := e.Stats().Failures
	want = append(want, enroll(t, b, k, "exp-1", "x", 500, 2000)...)
	waitFor(t, "failures in the second outage", func() bool { return e.Stats().Failures > failures })
	px.start(t)

	waitFor(t, "the streams to drain", func() bool { return drained(t, e) })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	warehousetest.Equal(t, allRows(t, w), want)
}

// TestExporter_ClaimDeadConsumer: entries a dead consumer read and never
// acknowledged are claimed after ClaimIdle and exported.
func TestExporter_ClaimDeadConsumer(t *testing.T) {
	forEachRedis(t, func(t *testing.T, b backend) {
		sink := newMemSink()
		k := createExperiment(t, b, "exp-1", "", 1)
		want := enroll(t, b, k, "exp-1", "u", 300, 0)
		readAsDead(t, b, k, 301) // the config event and every enrollment
		want = append(want, enroll(t, b, k, "exp-1", "v", 100, 1000)...)

		e := newExporter(b, sink, "c1")
		e.ClaimIdle = 100 * e.FlushInterval / 20 // 100ms
		r := start(e)
		waitFor(t, "the streams to drain", func() bool { return drained(t, e) })
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		warehousetest.Equal(t, sink.rows(), want)
		if x, ok := sink.experiments["exp-1"]; !ok {
			t.Fatal("the claimed config event was not exported")
		} else if x.Salt != "5a17" {
			t.Fatalf("exported salt %q, want the config event's 5a17 (a restore needs it)", x.Salt)
		}
	})
}

// TestExporter_ForgetsIdleConsumers: consumers that hold nothing and stay
// idle past ForgetIdle leave the group; one with pending entries stays until
// they are claimed.
func TestExporter_ForgetsIdleConsumers(t *testing.T) {
	forEachRedis(t, func(t *testing.T, b backend) {
		if b.Mini != nil {
			t.Skip("miniredis keeps no pending count or idle time per consumer as Redis does (XINFO CONSUMERS): real Redis only")
		}
		ctx := context.Background()
		k := createExperiment(t, b, "exp-1", "", 1)
		enroll(t, b, k, "exp-1", "u", 10, 0)
		// "old" read everything and acknowledged it (an instance that was
		// restarted under another name); "dead" then holds pending entries.
		res, err := b.Client.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: redisstore.ConsumerGroup, Consumer: "old", Streams: []string{k, ">"}, Count: 11, Block: -1,
		}).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res[0].Messages {
			b.Client.XAck(ctx, k, redisstore.ConsumerGroup, m.ID)
		}
		enroll(t, b, k, "exp-1", "v", 5, 100)
		readAsDead(t, b, k, 5)

		e := newExporter(b, newMemSink(), "c1")
		e.ClaimIdle = time.Hour // nothing is claimed from "dead" here
		e.ForgetIdle = 50 * time.Millisecond
		time.Sleep(100 * time.Millisecond) // past ForgetIdle on the server's clock
		r := start(e)
		names := func() map[string]bool {
			cs, err := b.Client.XInfoConsumers(ctx, k, redisstore.ConsumerGroup).Result()
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]bool{}
			for _, c := range cs {
				m[c.Name] = true
			}
			return m
		}
		waitFor(t, "the idle consumer to be forgotten", func() bool { return !names()["old"] })
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		if got := names(); !got["dead"] {
			t.Fatalf("consumers %v: the one with pending entries was removed", got)
		}
	})
}

// readAsDead reads n entries as consumer "dead", which never acknowledges.
func readAsDead(tb testing.TB, b backend, key string, n int64) {
	tb.Helper()
	res, err := b.Client.XReadGroup(context.Background(), &redis.XReadGroupArgs{
		Group: redisstore.ConsumerGroup, Consumer: "dead", Streams: []string{key, ">"}, Count: n, Block: -1,
	}).Result()
	if err != nil {
		tb.Fatal(err)
	} else if got := len(res[0].Messages); int64(got) != n {
		tb.Fatalf("dead consumer read %d entries, want %d", got, n)
	}
}

// TestExporter_TrimKeepsPending: trimming after a batch never removes an
// entry still pending for another consumer, and removes everything once
// all is acknowledged.
func TestExporter_TrimKeepsPending(t *testing.T) {
	forEachRedis(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		sink := newMemSink()
		k := createExperiment(t, b, "exp-1", "", 1)
		first := enroll(t, b, k, "exp-1", "u", 50, 0)
		readAsDead(t, b, k, 51)
		later := enroll(t, b, k, "exp-1", "v", 150, 1000)

		e := newExporter(b, sink, "c1")
		e.ClaimIdle = -1 // claiming off: the dead consumer's entries stay pending
		r := start(e)
		waitFor(t, "the later entries", func() bool { return sink.count() == len(later) })
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		pe, err := b.Client.XPending(ctx, k, redisstore.ConsumerGroup).Result()
		if err != nil {
			t.Fatal(err)
		} else if pe.Count != 51 {
			t.Fatalf("pending=%d, want 51", pe.Count)
		}
		// Every pending entry is still in the stream, readable.
		ids, err := b.Client.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: k, Group: redisstore.ConsumerGroup, Start: "-", End: "+", Count: 100}).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ids {
			msgs, err := b.Client.XRange(ctx, k, p.ID, p.ID).Result()
			if err != nil || len(msgs) != 1 || len(msgs[0].Values) == 0 {
				t.Fatalf("pending entry %s was trimmed (%v, %v)", p.ID, msgs, err)
			}
		}

		// With claiming on, the rest is exported and the stream emptied.
		e2 := newExporter(b, sink, "c1")
		e2.ClaimIdle = time.Millisecond
		r2 := start(e2)
		waitFor(t, "the streams to drain", func() bool { return drained(t, e2) })
		if err := r2.stop(t); err != nil {
			t.Fatal(err)
		}
		if n, err := b.Client.XLen(ctx, k).Result(); err != nil || n != 0 {
			t.Fatalf("XLEN=%d (%v), want 0", n, err)
		}
		warehousetest.Equal(t, sink.rows(), append(first, later...))
	})
}

// TestExporter_ShutdownFlushes: entries read but not yet due for writing
// are written when the exporter is stopped.
func TestExporter_ShutdownFlushes(t *testing.T) {
	forEachRedis(t, func(t *testing.T, b backend) {
		sink := newMemSink()
		k := createExperiment(t, b, "exp-1", "", 1)
		want := enroll(t, b, k, "exp-1", "u", 120, 0)
		e := newExporter(b, sink, "c1")
		e.FlushInterval = 1 << 40 // never due by time
		e.BatchSize = 1000        // never full
		r := start(e)
		waitFor(t, "the entries to be read", func() bool {
			bl, err := e.Backlog(context.Background())
			return err == nil && bl.Pending == 121
		})
		if n := sink.count(); n != 0 {
			t.Fatalf("%d rows written before the shutdown, want 0", n)
		}
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		warehousetest.Equal(t, sink.rows(), want)
		if !drained(t, e) {
			t.Fatal("entries left in the stream after the final flush")
		}
	})
}

// TestExporter_ShutdownDrains: a graceful stop also exports the entries
// not read yet, from a stream created after the last refresh of the stream
// list, over more than one batch.
func TestExporter_ShutdownDrains(t *testing.T) {
	forEachRedis(t, func(t *testing.T, b backend) {
		sink := newMemSink()
		e := newExporter(b, sink, "c1")
		e.FlushInterval = 1 << 40   // never due by time
		e.RefreshInterval = 1 << 40 // the new stream is never seen while running
		e.BatchSize = 100
		r := start(e)
		time.Sleep(200 * time.Millisecond) // let it list the (empty) stream set first
		k := createExperiment(t, b, "late", "", 1)
		want := enroll(t, b, k, "late", "u", 250, 0)
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		warehousetest.Equal(t, sink.rows(), want)
		if !drained(t, e) {
			t.Fatal("entries left in the stream after the drain")
		}
	})
}

// TestExporter_Malformed: an entry that cannot become a row is
// acknowledged and counted, and does not stop the rest.
func TestExporter_Malformed(t *testing.T) {
	forEachRedis(t, func(t *testing.T, b backend) {
		sink := newMemSink()
		k := createExperiment(t, b, "exp-1", "", 1)
		b.Client.XAdd(context.Background(), &redis.XAddArgs{Stream: k, Values: []any{"type", "enroll", "user", "x"}})
		b.Client.XAdd(context.Background(), &redis.XAddArgs{Stream: k, Values: []any{"type", "mystery", "ts", "1"}})
		want := enroll(t, b, k, "exp-1", "u", 10, 0)
		e := newExporter(b, sink, "c1")
		r := start(e)
		waitFor(t, "the streams to drain", func() bool { return drained(t, e) })
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		warehousetest.Equal(t, sink.rows(), want)
		if got := e.Stats().Skipped; got != 2 {
			t.Fatalf("Skipped=%d, want 2", got)
		}
	})
}

// TestExporter_NewStreamLater: an experiment created while the exporter
// runs is picked up at the next refresh of the stream set.
func TestExporter_NewStreamLater(t *testing.T) {
	forEachRedis(t, func(t *testing.T, b backend) {
		sink := newMemSink()
		e := newExporter(b, sink, "c1")
		r := start(e)
		k := createExperiment(t, b, "late", "", 1)
		want := enroll(t, b, k, "late", "u", 42, 0)
		waitFor(t, "the late experiment's rows", func() bool { return sink.count() == 42 })
		waitFor(t, "the streams to drain", func() bool { return drained(t, e) })
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		warehousetest.Equal(t, sink.rows(), want)
	})
}
