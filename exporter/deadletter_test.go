package exporter_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/exporter"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/warehousetest"
)

// poison is a stream entry written straight into a stream, bypassing the
// edge, that no warehouse (or not every one) takes.
type poison struct {
	name   string
	values map[string]string
	// row is the enrollment it becomes where the warehouse takes it.
	row *warehouse.EnrollmentRow
	// outcome is "" when the sink writes it, else the dead letter's reason.
	outcome func(sink string, precheck bool) string
}

// poisons returns the poison entries of experiment id; ts is their time.
func poisons(id string, ts int64) []poison {
	at := strconv.FormatInt(ts, 10)
	enrollment := func(user, group string) (map[string]string, *warehouse.EnrollmentRow) {
		return map[string]string{redisstore.EventType: redisstore.EventEnroll, redisstore.EventUser: user,
				redisstore.EventGroup: group, redisstore.EventTime: at},
			&warehouse.EnrollmentRow{ExperimentID: id, UserID: user, Group: group, EnrolledAt: time.UnixMilli(ts).UTC()}
	}
	text := func(refusedByDuckDB bool) func(string, bool) string {
		return func(sink string, precheck bool) string {
			switch {
			case precheck:
				return warehouse.ReasonInvalidText
			case sink == "postgres" || refusedByDuckDB:
				return warehouse.ReasonRefused
			}
			return "" // DuckDB keeps a NUL
		}
	}
	malformed := func(string, bool) string { return warehouse.ReasonMalformed }
	var out []poison
	add := func(name string, v map[string]string, row *warehouse.EnrollmentRow, outcome func(string, bool) string) {
		out = append(out, poison{name: name, values: v, row: row, outcome: outcome})
	}
	v, r := enrollment("nul\x00user", "control")
	add("NUL in the user id", v, r, text(false))
	v, r = enrollment("bad\xffutf8", "control")
	add("invalid UTF-8 in the user id", v, r, text(true))
	v, r = enrollment("user-with-nul-group", "contr\x00l")
	add("NUL in the group", v, r, text(false))
	// A user id of 16 KB of random hex: PostgreSQL's primary key index
	// refuses it (SQLSTATE 54000), which no pre-check knows; DuckDB takes it.
	big := make([]byte, 8192)
	rand.Read(big)
	v, r = enrollment("long-"+hex.EncodeToString(big), "treatment")
	add("user id too long for an index", v, r, func(sink string, _ bool) string {
		if sink == "postgres" {
			return warehouse.ReasonRefused
		}
		return ""
	})
	js, _ := json.Marshal(assign.Experiment{ID: id, MaxSampleSize: 5, SamplingProbability: 1, Status: assign.StatusRunning,
		Groups:  []assign.Group{{Name: "a\x00", Probability: 1}},
		Version: 7, CreatedAt: T0, UpdatedAt: T0})
	add("NUL in a configuration's group", map[string]string{redisstore.EventType: redisstore.EventConfig,
		redisstore.EventExperiment: string(js), redisstore.EventBy: "mallory", redisstore.EventTime: at}, nil,
		text(false))
	add("unknown event type", map[string]string{redisstore.EventType: "mystery", redisstore.EventTime: at}, nil, malformed)
	add("enrollment without a group", map[string]string{redisstore.EventType: redisstore.EventEnroll,
		redisstore.EventUser: "u", redisstore.EventTime: at}, nil, malformed)
	add("bad time", map[string]string{redisstore.EventType: redisstore.EventEnroll,
		redisstore.EventUser: "u\x00", redisstore.EventGroup: "g", redisstore.EventTime: "soon\xff"}, nil, malformed)
	return out
}

// TestExporter_DeadLetters writes poison events straight into a stream,
// among 10,000 good ones: with the pre-check (NUL, invalid UTF-8 found
// before any write) and without it (the warehouse refuses them and the
// batch is bisected), into PostgreSQL and DuckDB, the 10,000 rows arrive
// exactly once, every poison entry is in dead_letters once with its fields
// and error, counted, and the streams are drained. The first exporter
// crashes after its first commit, before acknowledging: the one that takes
// over writes those rows and letters again, and neither table repeats them.
// On the old code the first poison stops every batch: the rows never arrive.
func TestExporter_DeadLetters(t *testing.T) {
	for _, sinkName := range []string{"postgres", "duckdb"} {
		for _, precheck := range []bool{true, false} {
			name := sinkName + "/precheck"
			if !precheck {
				name = sinkName + "/bisect"
			}
			t.Run(name, func(t *testing.T) {
				forEachRedis(t, func(t *testing.T, b backend) {
					testDeadLetters(t, b, sinkName, precheck)
				})
			})
		}
	}
}

func testDeadLetters(t *testing.T, b backend, sinkName string, precheck bool) {
	ctx := context.Background()
	var w warehouse.Warehouse
	if sinkName == "postgres" {
		w, _ = pgSink(t, "")
	} else {
		w = duckSink(t)
	}
	k := createExperiment(t, b, "exp-dl", "", 1)
	k2 := createExperiment(t, b, "exp-clean", "", 1)
	want := enroll(t, b, k, "exp-dl", "a-", 4000, 0)
	ps := poisons("exp-dl", T0.Add(5000*1e6).UnixMilli())
	ids := make([]string, len(ps))
	for i, p := range ps {
		var vals []any
		for f, v := range p.values {
			vals = append(vals, f, v)
		}
		id, err := b.Client.XAdd(ctx, &redis.XAddArgs{Stream: k, Values: vals}).Result()
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
		if i == 2 {
			want = append(want, enroll(t, b, k, "exp-dl", "b-", 1000, 4000)...)
		}
	}
	want = append(want, enroll(t, b, k, "exp-dl", "c-", 1000, 6000)...)
	want = append(want, enroll(t, b, k2, "exp-clean", "d-", 4000, 0)...)
	if len(want) != 10000 {
		t.Fatalf("%d good rows, want 10000", len(want))
	}
	wantDead := map[string]string{} // entry id -> reason
	for i, p := range ps {
		if o := p.outcome(sinkName, precheck); o != "" {
			wantDead[ids[i]] = o
		} else if p.row != nil {
			want = append(want, *p.row)
		}
	}

	// The first exporter stops after its first commit, as a crash would,
	// without acknowledging: that batch (poison included) is replayed.
	crashed := false
	e1 := newExporter(b, w, "c1")
	e1.BatchSize = 5000
	exporter.SetPrecheck(e1, precheck)
	exporter.SetAfterCommit(e1, func() error {
		crashed = true
		return errors.New("crash")
	})
	r1 := start(e1)
	select {
	case err := <-r1.done:
		if !crashed {
			t.Fatalf("first exporter returned %v without committing", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("first exporter never committed")
	}

	e := newExporter(b, w, "c1")
	e.BatchSize = 1000
	exporter.SetPrecheck(e, precheck)
	r := start(e)
	waitFor(t, "the streams to drain", func() bool { return drained(t, e) })
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}

	warehousetest.Equal(t, allRows(t, w), want)

	letters, err := w.(warehouse.DeadLetterReader).ReadDeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]warehouse.DeadLetter{}
	for _, l := range letters {
		if _, dup := got[l.EntryID]; dup {
			t.Fatalf("entry %s dead-lettered twice", l.EntryID)
		}
		got[l.EntryID] = l
	}
	for i, p := range ps {
		reason, dead := wantDead[ids[i]]
		l, ok := got[ids[i]]
		if ok != dead {
			t.Fatalf("%s: dead-lettered=%v, want %v (letter %+v)", p.name, ok, dead, l)
		}
		if !dead {
			continue
		}
		if l.Reason != reason || l.Stream != k || l.ExperimentID != "exp-dl" || l.Error == "" || l.SeenAt.IsZero() {
			t.Fatalf("%s: dead letter %+v, want reason %s, stream %s, experiment exp-dl, an error and a time", p.name, l, reason, k)
		}
		fields, err := warehouse.DecodeFields(l.Fields)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		for _, f := range []string{redisstore.EventType, redisstore.EventUser, redisstore.EventGroup, redisstore.EventBy} {
			if fields[f] != p.values[f] {
				t.Fatalf("%s: field %s of the dead letter is %q, want %q (fields %s)", p.name, f, fields[f], p.values[f], l.Fields)
			}
		}
		if reason == warehouse.ReasonRefused && sinkName == "postgres" && !strings.Contains(l.Error, "SQLSTATE") {
			t.Fatalf("%s: error %q does not carry PostgreSQL's SQLSTATE", p.name, l.Error)
		}
	}
	if len(got) != len(wantDead) {
		t.Fatalf("%d dead letters, want %d: %+v", len(got), len(wantDead), letters)
	}
	st := e.Stats()
	var byReason = map[string]uint64{}
	for _, r := range wantDead {
		byReason[r]++
	}
	// The second exporter counts what it dead-lettered: all of them, or
	// those the first did not commit before its crash.
	if st.DeadLetters == 0 || st.DeadLetters != st.Skipped+st.InvalidText+st.Refused || st.DeadLetters > uint64(len(wantDead)) {
		t.Fatalf("stats %+v, want dead letters counted by reason (%v)", st, byReason)
	}
	if st.LastDeadLetter.Reason == "" || st.LastDeadLetter.Error == "" {
		t.Fatalf("LastDeadLetter %+v", st.LastDeadLetter)
	}
}

func TestExporter_DeadLettersWithoutTable(t *testing.T) {
	// A sink without a dead-letter table gets the letters in the log: the
	// export goes on all the same.
	forEachRedis(t, func(t *testing.T, b backend) {
		sink := newMemSink()
		k := createExperiment(t, b, "exp-1", "", 1)
		b.Client.XAdd(context.Background(), &redis.XAddArgs{Stream: k, Values: []any{
			redisstore.EventType, redisstore.EventEnroll, redisstore.EventUser, "nul\x00", redisstore.EventGroup, "a",
			redisstore.EventTime, "1"}})
		want := enroll(t, b, k, "exp-1", "u", 10, 0)
		e := newExporter(b, sink, "c1")
		r := start(e)
		waitFor(t, "the streams to drain", func() bool { return drained(t, e) })
		if err := r.stop(t); err != nil {
			t.Fatal(err)
		}
		warehousetest.Equal(t, sink.rows(), want)
		if st := e.Stats(); st.DeadLetters != 1 || st.InvalidText != 1 {
			t.Fatalf("stats %+v, want one invalid-text dead letter", st)
		}
	})
}
