// Package warehousetest is the contract every warehouse sink passes, run by
// each sink's own tests against a real database.
package warehousetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/warehouse"
)

// Day is the UTC day the contract's rows fall on.
var Day = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)

// Enrollments returns n enrollments of experiment id spread over Day, with
// millisecond times, alternating groups "a" and "b".
func Enrollments(id string, n int) []warehouse.EnrollmentRow {
	rows := make([]warehouse.EnrollmentRow, n)
	for i := range rows {
		rows[i] = warehouse.EnrollmentRow{
			ExperimentID: id,
			UserID:       fmt.Sprintf("user-%06d", i),
			Group:        []string{"a", "b"}[i%2],
			EnrolledAt:   Day.Add(time.Duration(i) * 1237 * time.Millisecond),
		}
	}
	return rows
}

// Experiment returns version v of a two-group experiment row.
func Experiment(id string, v int64) warehouse.ExperimentRow {
	return warehouse.ExperimentRow{
		ExperimentID:        id,
		MaxSampleSize:       100 * v,
		SamplingProbability: 0.5,
		Groups:              []assign.Group{{Name: "a", Probability: 0.5}, {Name: "b", Probability: 0.5}},
		Status:              assign.StatusRunning,
		Salt:                fmt.Sprintf("5a17%04x", v),
		Version:             v,
		UpdatedBy:           fmt.Sprintf("admin-%d", v),
		CreatedAt:           Day,
		UpdatedAt:           Day.Add(time.Duration(v) * time.Minute),
	}
}

// SchemaVersion is the number of migrations every sink has: 1 the tables,
// 2 the salt column, 3 the dead letters, 4 the schedule columns, 5 the
// override flag, 6 the platform, 7 the experiments' QA overrides.
const SchemaVersion = 7

// Inspector reads a sink's tables back for assertions.
type Inspector interface {
	// Experiment returns the experiments row of id: version, updated_by, maximum_sample_size.
	Experiment(ctx context.Context, id string) (version int64, by string, max int64, err error)
	// Changes returns the versions in experiment_changes for id, ascending.
	Changes(ctx context.Context, id string) ([]int64, error)
	// Migrations returns the number of rows in schema_migrations.
	Migrations(ctx context.Context) (int, error)
}

// Subject is the warehouse under test and a way to inspect it.
type Subject struct {
	Warehouse warehouse.Warehouse
	Inspector Inspector
}

// Run runs the contract; open returns a fresh, empty, not yet migrated
// warehouse, cleaned up by the test.
func Run(t *testing.T, open func(t *testing.T) Subject) {
	ctx := context.Background()

	t.Run("MigrateTwice", func(t *testing.T) {
		s := open(t)
		for i := 0; i < 2; i++ {
			if err := s.Warehouse.Migrate(ctx); err != nil {
				t.Fatalf("Migrate #%d: %v", i+1, err)
			}
		}
		if n, err := s.Inspector.Migrations(ctx); err != nil {
			t.Fatal(err)
		} else if n != SchemaVersion {
			t.Fatalf("schema_migrations has %d rows, want %d", n, SchemaVersion)
		}
	})

	t.Run("RoundTripIdempotent", func(t *testing.T) {
		s := open(t)
		mustMigrate(t, s.Warehouse)
		want := Enrollments("exp-1", 2500)
		// The second write repeats the first half and adds the rest, with a
		// duplicate inside the batch, as an at-least-once reader may.
		if err := s.Warehouse.WriteBatch(ctx, clone(want[:1250]), nil); err != nil {
			t.Fatal(err)
		}
		second := append(clone(want), want[7])
		if err := s.Warehouse.WriteBatch(ctx, second, nil); err != nil {
			t.Fatal(err)
		}
		got := Scan(t, s.Warehouse, Day, Day.Add(24*time.Hour))
		Equal(t, got, want)
	})

	t.Run("FirstWriteWins", func(t *testing.T) {
		s := open(t)
		mustMigrate(t, s.Warehouse)
		first := Enrollments("exp-1", 1)
		changed := clone(first)
		changed[0].Group = "b"
		for _, b := range [][]warehouse.EnrollmentRow{first, changed} {
			if err := s.Warehouse.WriteBatch(ctx, b, nil); err != nil {
				t.Fatal(err)
			}
		}
		Equal(t, Scan(t, s.Warehouse, Day, Day.Add(time.Hour)), first)
	})

	t.Run("ScanRange", func(t *testing.T) {
		s := open(t)
		mustMigrate(t, s.Warehouse)
		rows := Enrollments("exp-b", 10)
		rows = append(rows, Enrollments("exp-a", 10)...)
		rows[3].EnrolledAt = Day.Add(-time.Millisecond)  // the day before
		rows[4].EnrolledAt = Day.Add(24 * time.Hour)     // the day after
		rows[5].EnrolledAt = Day.Add(24*time.Hour - 1e6) // last millisecond of the day
		if err := s.Warehouse.WriteBatch(ctx, clone(rows), nil); err != nil {
			t.Fatal(err)
		}
		n, err := s.Warehouse.CountEnrollments(ctx, Day, Day.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		} else if n != 18 {
			t.Fatalf("CountEnrollments=%d, want 18", n)
		}
		got := Scan(t, s.Warehouse, Day, Day.Add(24*time.Hour))
		if len(got) != 18 {
			t.Fatalf("scanned %d rows, want 18", len(got))
		}
		for i := 1; i < len(got); i++ {
			a, b := got[i-1], got[i]
			if a.ExperimentID > b.ExperimentID || (a.ExperimentID == b.ExperimentID && a.EnrolledAt.After(b.EnrolledAt)) {
				t.Fatalf("rows %d and %d out of order: %+v, %+v", i-1, i, a, b)
			}
		}
		if got[0].ExperimentID != "exp-a" {
			t.Fatalf("first row %+v, want exp-a first", got[0])
		}
	})

	t.Run("ExperimentsKeepHighestVersion", func(t *testing.T) {
		s := open(t)
		mustMigrate(t, s.Warehouse)
		// Versions arrive out of order and repeated, across batches.
		batches := [][]warehouse.ExperimentRow{
			{Experiment("exp-1", 1), Experiment("exp-1", 3)},
			{Experiment("exp-1", 2), Experiment("exp-1", 3)},
		}
		for _, b := range batches {
			if err := s.Warehouse.WriteBatch(ctx, nil, b); err != nil {
				t.Fatal(err)
			}
		}
		v, by, max, err := s.Inspector.Experiment(ctx, "exp-1")
		if err != nil {
			t.Fatal(err)
		} else if v != 3 || by != "admin-3" || max != 300 {
			t.Fatalf("experiment row: version=%d by=%q max=%d, want 3 admin-3 300", v, by, max)
		}
		vs, err := s.Inspector.Changes(ctx, "exp-1")
		if err != nil {
			t.Fatal(err)
		} else if fmt.Sprint(vs) != "[1 2 3]" {
			t.Fatalf("experiment_changes versions %v, want [1 2 3]", vs)
		}
	})

	t.Run("SourceReadsLatestWithSalt", func(t *testing.T) {
		s := open(t)
		mustMigrate(t, s.Warehouse)
		src, ok := s.Warehouse.(warehouse.Source)
		if !ok {
			t.Fatalf("%T does not implement warehouse.Source", s.Warehouse)
		}
		b2 := Experiment("exp-b", 2)
		b2.Eligibility = []assign.Rule{{Claim: "country", In: []any{"FR", "DE"}}}
		b2.Layer, b2.Winner, b2.Status = "checkout", "b", assign.StatusPaused
		start, end := Day.Add(time.Hour), Day.Add(48*time.Hour)
		b2.StartAt, b2.EndAt = &start, &end                        // the schedule; exp-a has none (NULL)
		b2.Overrides = map[string]string{"qa-1": "b", "qa-2": "a"} // kept for restores; exp-a has none
		if err := s.Warehouse.WriteBatch(ctx, nil, []warehouse.ExperimentRow{Experiment("exp-b", 1), b2, Experiment("exp-a", 1)}); err != nil {
			t.Fatal(err)
		}
		enr := Enrollments("exp-b", 5)
		enr = append(enr, Enrollments("exp-a", 3)...)
		if err := s.Warehouse.WriteBatch(ctx, clone(enr), nil); err != nil {
			t.Fatal(err)
		}
		all, err := src.LatestExperiments(ctx, nil)
		if err != nil {
			t.Fatal(err)
		} else if len(all) != 2 || all[0].ExperimentID != "exp-a" || all[1].ExperimentID != "exp-b" {
			t.Fatalf("LatestExperiments(nil) = %+v, want exp-a then exp-b", all)
		}
		got := all[1]
		if !reflect.DeepEqual(got, b2) {
			t.Fatalf("exp-b read back\n got %+v\nwant %+v", got, b2)
		}
		if got.Salt != "5a170002" {
			t.Fatalf("salt %q, want the salt of version 2", got.Salt)
		}
		one, err := src.LatestExperiments(ctx, []string{"exp-a", "missing"})
		if err != nil {
			t.Fatal(err)
		} else if len(one) != 1 || one[0].ExperimentID != "exp-a" || one[0].Salt != "5a170001" || one[0].StartAt != nil || one[0].EndAt != nil || one[0].Overrides != nil {
			t.Fatalf("LatestExperiments(exp-a, missing) = %+v", one)
		}
		var members []warehouse.EnrollmentRow
		if err := src.ScanExperimentEnrollments(ctx, "exp-b", func(r warehouse.EnrollmentRow) error {
			members = append(members, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		Equal(t, members, enr[:5])
	})

	t.Run("PlatformRoundTrip", func(t *testing.T) {
		s := open(t)
		mustMigrate(t, s.Warehouse)
		want := Enrollments("exp-p", 8)
		for i := range want {
			want[i].Platform = []string{"web", "ios", "android", "other", ""}[i%5] // "": none given
		}
		if err := s.Warehouse.WriteBatch(ctx, clone(want), nil); err != nil {
			t.Fatal(err)
		}
		Equal(t, Scan(t, s.Warehouse, Day, Day.Add(24*time.Hour)), want)
	})

	t.Run("OverrideRows", func(t *testing.T) {
		s := open(t)
		mustMigrate(t, s.Warehouse)
		at := Day.Add(time.Hour)
		row := func(user, group string, override bool, min int) warehouse.EnrollmentRow {
			return warehouse.EnrollmentRow{ExperimentID: "exp-o", UserID: user, Group: group, EnrolledAt: at.Add(time.Duration(min) * time.Minute), Override: override}
		}
		batches := [][]warehouse.EnrollmentRow{
			{row("u1", "b", true, 0), row("u2", "a", false, 1), row("u3", "b", true, 2), row("u4", "b", true, 3), row("u4", "a", false, 4)},
			// u1's override removed, then enrolled: the member's row
			// replaces it; u2, a member, then overridden: stays the member;
			// u3's override re-set to another group: the newer override.
			{row("u1", "a", false, 5), row("u2", "b", true, 6), row("u3", "a", true, 7)},
		}
		for _, b := range batches {
			if err := s.Warehouse.WriteBatch(ctx, b, nil); err != nil {
				t.Fatal(err)
			}
		}
		// Reads return members only.
		want := []warehouse.EnrollmentRow{row("u1", "a", false, 5), row("u2", "a", false, 1), row("u4", "a", false, 4)}
		got := Scan(t, s.Warehouse, Day, Day.Add(24*time.Hour))
		slices.SortFunc(got, func(a, b warehouse.EnrollmentRow) int { return strings.Compare(a.UserID, b.UserID) })
		Equal(t, got, want)
		if n, err := s.Warehouse.CountEnrollments(ctx, Day, Day.Add(24*time.Hour)); err != nil || n != 3 {
			t.Fatalf("CountEnrollments = %d, %v; want the 3 members", n, err)
		}
		if src, ok := s.Warehouse.(warehouse.Source); ok {
			var members []warehouse.EnrollmentRow
			if err := src.ScanExperimentEnrollments(ctx, "exp-o", func(r warehouse.EnrollmentRow) error {
				members = append(members, r)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(members) != 3 {
				t.Fatalf("ScanExperimentEnrollments: %d rows, want the 3 members", len(members))
			}
		}
	})

	t.Run("RefusedDataIsRefusedError", func(t *testing.T) {
		s := open(t)
		mustMigrate(t, s.Warehouse)
		rows := Enrollments("exp-1", 10)
		rows[4].UserID = "bad\xffutf8" // refused by every sink (DuckDB: as NULL)
		err := s.Warehouse.WriteBatch(ctx, clone(rows), nil)
		if err == nil || !warehouse.IsRefused(err) {
			t.Fatalf("WriteBatch with invalid UTF-8: err=%v, want a warehouse.RefusedError", err)
		}
		if got := Scan(t, s.Warehouse, Day, Day.Add(24*time.Hour)); len(got) != 0 {
			t.Fatalf("a refused batch left %d rows, want none (one transaction)", len(got))
		}
		// A cancelled write is not the data's fault.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Warehouse.WriteBatch(cctx, Enrollments("exp-1", 3), nil); err == nil || warehouse.IsRefused(err) {
			t.Fatalf("WriteBatch on a cancelled context: err=%v, want an error that is not refused", err)
		}
	})

	t.Run("DeadLettersKeepFirst", func(t *testing.T) {
		s := open(t)
		mustMigrate(t, s.Warehouse)
		w, ok := s.Warehouse.(warehouse.DeadLetterWriter)
		r, ok2 := s.Warehouse.(warehouse.DeadLetterReader)
		if !ok || !ok2 {
			t.Fatalf("%T does not implement warehouse.DeadLetterWriter and Reader", s.Warehouse)
		}
		fields := map[string]any{"type": "enroll", "user": "nul\x00user", "group": "bad\xff", "ts": "1773480413589"}
		first := []warehouse.DeadLetter{
			{Stream: "{exp:e}:events", EntryID: "1-0", ExperimentID: "e", Reason: warehouse.ReasonInvalidText,
				Error: "user_id holds a NUL byte", Fields: warehouse.EncodeFields(fields), SeenAt: Day},
			{Stream: "{exp:e}:events", EntryID: "2-0", ExperimentID: "e", Reason: warehouse.ReasonRefused,
				Error: "raw \x00 and \xfe in an error", Fields: `{}`, SeenAt: Day.Add(time.Second)},
		}
		if err := w.WriteDeadLetters(ctx, first); err != nil {
			t.Fatal(err)
		}
		again := append([]warehouse.DeadLetter(nil), first...)
		again[0].Error, again[0].SeenAt = "later", Day.Add(time.Hour)
		again = append(again, warehouse.DeadLetter{Stream: "{exp:f}:events", EntryID: "1-0", ExperimentID: "f",
			Reason: warehouse.ReasonMalformed, Error: "unknown event type", Fields: `{"type":"x"}`, SeenAt: Day.Add(2 * time.Second)})
		if err := w.WriteDeadLetters(ctx, again); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadDeadLetters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("read %d dead letters, want 3: %+v", len(got), got)
		}
		if got[0].Error != first[0].Error || !got[0].SeenAt.Equal(Day) {
			t.Fatalf("a dead letter written twice kept %+v, want the first", got[0])
		}
		if got[1].Error != `raw \x00 and \xfe in an error` {
			t.Fatalf("error text %q, want it escaped", got[1].Error)
		}
		back, err := warehouse.DecodeFields(got[0].Fields)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range fields {
			if back[k] != v {
				t.Fatalf("field %s read back %q, want %q (fields %s)", k, back[k], v, got[0].Fields)
			}
		}
		if err := r.DeleteDeadLetters(ctx, []warehouse.DeadLetter{got[0], {Stream: "absent", EntryID: "1-0"}}); err != nil {
			t.Fatal(err)
		}
		if left, err := r.ReadDeadLetters(ctx); err != nil {
			t.Fatal(err)
		} else if len(left) != 2 || left[0].EntryID != "2-0" {
			t.Fatalf("after deleting the first: %+v", left)
		}
	})
}

func mustMigrate(t *testing.T, w warehouse.Warehouse) {
	t.Helper()
	if err := w.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
}

// Scan returns the enrollments of [from, to).
func Scan(tb testing.TB, r warehouse.Reader, from, to time.Time) []warehouse.EnrollmentRow {
	tb.Helper()
	var rows []warehouse.EnrollmentRow
	err := r.ScanEnrollments(context.Background(), from, to, func(e warehouse.EnrollmentRow) error {
		rows = append(rows, e)
		return nil
	})
	if err != nil {
		tb.Fatalf("ScanEnrollments: %v", err)
	}
	return rows
}

// Equal fails unless got and want hold the same rows, in any order, with
// equal times.
func Equal(tb testing.TB, got, want []warehouse.EnrollmentRow) {
	tb.Helper()
	type key struct{ exp, user string }
	m := make(map[key]warehouse.EnrollmentRow, len(want))
	for _, w := range want {
		m[key{w.ExperimentID, w.UserID}] = w
	}
	if len(got) != len(m) {
		tb.Fatalf("got %d rows, want %d", len(got), len(m))
	}
	for _, g := range got {
		w, ok := m[key{g.ExperimentID, g.UserID}]
		if !ok {
			tb.Fatalf("unexpected row %+v", g)
		}
		if g.Group != w.Group || !g.EnrolledAt.Equal(w.EnrolledAt) || g.Platform != w.Platform {
			tb.Fatalf("row %s/%s: group=%q at=%v, want group=%q at=%v", g.ExperimentID, g.UserID,
				g.Group, g.EnrolledAt, w.Group, w.EnrolledAt)
		}
		delete(m, key{g.ExperimentID, g.UserID})
	}
}

func clone(rows []warehouse.EnrollmentRow) []warehouse.EnrollmentRow {
	return append([]warehouse.EnrollmentRow(nil), rows...)
}
