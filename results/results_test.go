package results_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/results"
	"github.com/assign-dev/assign/results/resultstest"
	"github.com/assign-dev/assign/stats"
	"github.com/assign-dev/assign/warehouse"
)

// backends returns, for a fixture, a function opening it on DuckDB and on
// PostgreSQL (the latter skipped loudly when absent, failed under CI).
func forEachWarehouse(t *testing.T, f *resultstest.Fixture, fn func(t *testing.T, w *results.Warehouse)) {
	t.Run("duckdb", func(t *testing.T) {
		fn(t, mustOpen(t, resultstest.LoadDuckDB(t, f)))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, mustOpen(t, resultstest.LoadPostgres(t, f)))
	})
}

func mustOpen(tb testing.TB, url string) *results.Warehouse {
	tb.Helper()
	w, err := results.Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close() })
	return w
}

func approx[T ~float64](tb testing.TB, name string, got T, want, tol float64) {
	tb.Helper()
	g := float64(got)
	if math.IsNaN(want) {
		if !math.IsNaN(g) {
			tb.Errorf("%s=%v, want undefined", name, g)
		}
		return
	}
	if math.IsNaN(g) || math.Abs(g-want) > tol {
		tb.Errorf("%s=%.12g, want %.12g (±%g)", name, g, want, tol)
	}
}

// CheckReport compares a Report with a reference, every number.
func checkReport(t *testing.T, r *stats.Report, ref *resultstest.Reference) {
	t.Helper()
	if r.Control != ref.Control {
		t.Fatalf("Control=%q, want %q", r.Control, ref.Control)
	}
	if len(r.Groups) != len(ref.Groups) {
		t.Fatalf("%d groups, want %d", len(r.Groups), len(ref.Groups))
	}
	for i, want := range ref.Groups {
		g := r.Groups[i]
		if g.Name != want.Name || g.N != want.N {
			t.Errorf("group %d: %s n=%d, want %s n=%d", i, g.Name, g.N, want.Name, want.N)
		}
		if want.Conversions >= 0 && (g.Conversions == nil || *g.Conversions != want.Conversions) {
			t.Errorf("%s: conversions=%v, want %d", g.Name, g.Conversions, want.Conversions)
		}
		approx(t, g.Name+".Rate", g.Rate, want.Rate, 1e-12)
		approx(t, g.Name+".Mean", g.Mean, want.Mean, 1e-12)
		approx(t, g.Name+".SD", g.SD, want.SD, 1e-12)
	}
	if len(r.Comparisons) != len(ref.Comparisons) {
		t.Fatalf("%d comparisons, want %d", len(r.Comparisons), len(ref.Comparisons))
	}
	for i, want := range ref.Comparisons {
		c := r.Comparisons[i]
		if c.Group != want.Group {
			t.Fatalf("comparison %d of %q, want %q", i, c.Group, want.Group)
		}
		approx(t, c.Group+".Difference", c.Difference, want.Difference, 1e-12)
		approx(t, c.Group+".DifferenceCI.Lower", c.DifferenceCI.Lower, want.Lower, min(want.Tol, 5e-8))
		approx(t, c.Group+".DifferenceCI.Upper", c.DifferenceCI.Upper, want.Upper, min(want.Tol, 5e-8))
		approx(t, c.Group+".RelativeLift", c.RelativeLift, want.Lift, 1e-12)
		approx(t, c.Group+".RelativeLiftCI.Lower", c.RelativeLiftCI.Lower, want.LiftLower, 1e-9)
		approx(t, c.Group+".RelativeLiftCI.Upper", c.RelativeLiftCI.Upper, want.LiftUpper, 1e-9)
		approx(t, c.Group+".Statistic", c.Statistic, want.Statistic, want.Tol*10)
		approx(t, c.Group+".DF", c.DF, want.DF, want.Tol)
		approx(t, c.Group+".PValue", c.PValue, want.PValue, min(want.Tol, 5e-6))
		approx(t, c.Group+".AdjustedPValue", c.AdjustedPValue, want.AdjustedPValue, min(want.Tol, 5e-6))
		if c.Significant != want.Significant {
			t.Errorf("%s.Significant=%v, want %v", c.Group, c.Significant, want.Significant)
		}
		if c.Verdict != want.Verdict {
			t.Errorf("%s.Verdict=%q, want %q", c.Group, c.Verdict, want.Verdict)
		}
	}
	approx(t, "SRM.ChiSquare", r.SRM.ChiSquare, ref.SRM.ChiSquare, 1e-9)
	approx(t, "SRM.PValue", r.SRM.PValue, ref.SRM.PValue, 1e-9*math.Max(ref.SRM.PValue, 1e-30)+1e-15)
	if r.SRM.DF != ref.SRM.DF || r.SRM.Mismatch != ref.SRM.Mismatch {
		t.Errorf("SRM df=%d mismatch=%v, want df=%d mismatch=%v", r.SRM.DF, r.SRM.Mismatch, ref.SRM.DF, ref.SRM.Mismatch)
	}
}

// The published R prop.test example, through the warehouse: only orders
// after enrollment count, cancelled and repeated orders do not inflate the
// counts, other experiments and strangers are ignored.
func TestWarehouse_Analyze_Binary(t *testing.T) {
	ref := resultstest.PropTest()
	forEachWarehouse(t, ref.Fixture, func(t *testing.T, w *results.Warehouse) {
		ctx := context.Background()
		res, err := w.Analyze(ctx, results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", OutcomeSQL: resultstest.BinarySQL + ";", TimeColumn: resultstest.TimeColumn})
		if err != nil {
			t.Fatal(err)
		}
		if res.OutcomeColumn != results.ColumnConverted || res.Outcome != stats.OutcomeBinary {
			t.Fatalf("outcome %q/%q", res.OutcomeColumn, res.Outcome)
		}
		res.Warnings = withoutPeeking(t, res)
		if len(res.Warnings) != 0 {
			t.Fatalf("Warnings=%q, want none", res.Warnings)
		}
		checkReport(t, res.Report, ref)

		// Without the time column, orders before enrollment count: the
		// users who ordered only before now convert.
		res, err = w.Analyze(ctx, results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", OutcomeSQL: resultstest.BinarySQL})
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range res.Groups {
			want := ref.Groups[i].Conversions + int64(ref.Before[g.Name])
			if *g.Conversions != want || ref.Before[g.Name] == 0 {
				t.Errorf("%s without time column: conversions=%d, want %d", g.Name, *g.Conversions, want)
			}
		}
		res.Warnings = withoutPeeking(t, res)
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "no time column") {
			t.Fatalf("Warnings=%q", res.Warnings)
		}

		// A boolean converted column works the same way.
		res, err = w.Analyze(ctx, results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", TimeColumn: "ordered_at",
			OutcomeSQL: "SELECT user_id, ordered_at, converted = 1 AS converted FROM orders"})
		if err != nil {
			t.Fatal(err)
		}
		checkReport(t, res.Report, ref)
	})
}

// R's sleep data and Welch's t-test, through the warehouse: values summed
// per user after enrollment (an order at the very instant of enrollment
// does not count, one a millisecond later does: only strictly after), a user
// without orders counts as 0.
func TestWarehouse_Analyze_Numeric(t *testing.T) {
	ref := resultstest.Sleep()
	forEachWarehouse(t, ref.Fixture, func(t *testing.T, w *results.Warehouse) {
		res, err := w.Analyze(context.Background(), results.Query{Method: stats.MethodFixed, ExperimentID: "sleep", OutcomeSQL: resultstest.NumericSQL, TimeColumn: "ordered_at"})
		if err != nil {
			t.Fatal(err)
		}
		if res.OutcomeColumn != results.ColumnValue || res.Outcome != stats.OutcomeNumeric {
			t.Fatalf("outcome %q/%q", res.OutcomeColumn, res.Outcome)
		}
		checkReport(t, res.Report, ref)
	})
}

// Three groups: Holm's correction turns two raw wins into no verdict, and
// the split 2000/2000/2000 against 40/30/30 raises the mismatch flag.
func TestWarehouse_Analyze_HolmAndSRM(t *testing.T) {
	ref := resultstest.Holm()
	forEachWarehouse(t, ref.Fixture, func(t *testing.T, w *results.Warehouse) {
		res, err := w.Analyze(context.Background(), results.Query{Method: stats.MethodFixed, ExperimentID: "holm", OutcomeSQL: resultstest.BinarySQL, TimeColumn: "ordered_at"})
		if err != nil {
			t.Fatal(err)
		}
		checkReport(t, res.Report, ref)
		if res.Correction != "holm" {
			t.Fatalf("Correction=%q", res.Correction)
		}
		if len(res.Warnings) == 0 || !strings.HasPrefix(res.Warnings[0], "SAMPLE RATIO MISMATCH") {
			t.Fatalf("Warnings=%q, want the mismatch first", res.Warnings)
		}
	})
}

// Control, configured groups with nobody, and the contract's errors.
func TestWarehouse_Analyze_Options(t *testing.T) {
	ref := resultstest.PropTest()
	w := mustOpen(t, resultstest.LoadDuckDB(t, ref.Fixture))
	ctx := context.Background()
	q := results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", OutcomeSQL: resultstest.BinarySQL, TimeColumn: "ordered_at"}

	t.Run("Control", func(t *testing.T) {
		q := q
		q.Control = "new_journey"
		res, err := w.Analyze(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Comparisons[0]
		if c.Group != "old_journey" || c.Control != "new_journey" {
			t.Fatalf("comparison %s vs %s", c.Group, c.Control)
		}
		approx(t, "Difference", c.Difference, -0.13456483644859813, 1e-12)
		approx(t, "PValue", c.PValue, 0.01350, 5e-6)
	})

	t.Run("EmptyConfiguredGroup", func(t *testing.T) {
		q := q
		q.Groups = []assign.Group{{Name: "old_journey", Probability: 0.3}, {Name: "new_journey", Probability: 0.5}, {Name: "late", Probability: 0.2}}
		res, err := w.Analyze(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Groups) != 3 || res.Groups[2].N != 0 || !strings.Contains(res.Comparisons[1].Verdict, "cannot be tested") {
			t.Fatalf("groups=%+v verdict=%q", res.Groups, res.Comparisons[1].Verdict)
		}
	})

	for name, tc := range map[string]struct {
		q     results.Query
		code  string
		field string
		msg   string
	}{
		"UnknownExperiment": {results.Query{Method: stats.MethodFixed, ExperimentID: "nope", OutcomeSQL: resultstest.BinarySQL}, assign.ENOTFOUND, "", "not in the warehouse"},
		"BadID":             {results.Query{Method: stats.MethodFixed, ExperimentID: "", OutcomeSQL: resultstest.BinarySQL}, assign.EINVALID, "experiment_id", ""},
		"NoUserID":          {results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", OutcomeSQL: "SELECT converted FROM orders"}, assign.EINVALID, "outcome_sql", "user_id"},
		"NoOutcome":         {results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", OutcomeSQL: "SELECT user_id FROM orders"}, assign.EINVALID, "outcome_sql", "converted"},
		"Both":              {results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", OutcomeSQL: "SELECT user_id, converted, amount AS value FROM orders"}, assign.EINVALID, "outcome_sql", "both"},
		"NotBinary":         {results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", OutcomeSQL: "SELECT user_id, 2 AS converted FROM orders"}, assign.EINVALID, "outcome_sql", "0 or 1"},
		"BadSQL":            {results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", OutcomeSQL: "SELEC nonsense"}, assign.EINVALID, "outcome_sql", "fails"},
		"MissingTime":       {results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", OutcomeSQL: resultstest.BinarySQL, TimeColumn: "paid_at"}, assign.EINVALID, "time_column", "paid_at"},
		"InjectedTime":      {results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", OutcomeSQL: resultstest.BinarySQL, TimeColumn: `x" OR 1=1 --`}, assign.EINVALID, "time_column", ""},
		"BadControl":        {results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", OutcomeSQL: resultstest.BinarySQL, Control: "nobody"}, assign.EINVALID, "control", ""},
		"UnknownGroup": {results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", OutcomeSQL: resultstest.BinarySQL,
			Groups: []assign.Group{{Name: "old_journey", Probability: 1}}}, assign.EINVALID, "groups", "new_journey"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := w.Analyze(ctx, tc.q)
			if assign.ErrorCode(err) != tc.code || (tc.field != "" && assign.ErrorField(err) != tc.field) || !strings.Contains(assign.ErrorMessage(err), tc.msg) {
				t.Fatalf("err=%v, want code %s field %q containing %q", err, tc.code, tc.field, tc.msg)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	if _, err := results.Open(ctx, t.TempDir()+"/missing.duckdb"); assign.ErrorCode(err) != assign.ENOTFOUND {
		t.Fatalf("missing file: err=%v, want not found", err)
	}
	if _, err := results.Open(ctx, "mysql://x"); assign.ErrorCode(err) != assign.EINVALID {
		t.Fatalf("unknown scheme: err=%v, want invalid", err)
	}
	path := resultstest.LoadDuckDB(t, resultstest.Sleep().Fixture)
	for _, u := range []string{path, "duckdb:" + path, "duckdb://" + path} {
		w := mustOpen(t, u)
		if w.Dialect() != results.DialectDuckDB {
			t.Fatalf("%s: dialect %q", u, w.Dialect())
		}
		// Read-only: the analysis can never change the warehouse.
		if _, err := w.DB().ExecContext(ctx, "DELETE FROM enrollments"); err == nil {
			t.Fatalf("%s: DELETE succeeded on a read-only warehouse", u)
		}
	}
}

// A ramp: the group probabilities go from 50/50 to 90/10 after the first
// 1,000 users. 520/480 joined before the change and 890/110 after, so
// 1,410/590 in all. The expected sizes weigh each period's probabilities by
// its users: 1,000 × 0.5 + 1,000 × 0.9 = 1,400 and 600, so the check is
// chi-square = 10²/1400 + 10²/600 = 0.238095..., df 1, p = erfc(√(χ²/2))
// = 0.6256; against the current 90/10 alone (1,800/200) the same users would
// be a glaring mismatch.
func TestWarehouse_Analyze_ProbabilitiesChanged(t *testing.T) {
	f, change := resultstest.NewRamp("ramp")

	forEachWarehouse(t, f, func(t *testing.T, w *results.Warehouse) {
		ctx := context.Background()
		e, err := w.Experiment(ctx, "ramp")
		if err != nil {
			t.Fatal(err)
		}
		if !e.ProbabilitiesChanged || len(e.Allocations) != 2 || !e.Allocations[1].From.Equal(change) || e.Allocations[1].Version != 2 {
			t.Fatalf("experiment %+v, want two allocations, the second from %v", e, change)
		}
		res, err := w.Analyze(ctx, results.Query{Method: stats.MethodFixed, ExperimentID: "ramp", OutcomeSQL: resultstest.BinarySQL, TimeColumn: resultstest.TimeColumn})
		if err != nil {
			t.Fatal(err)
		}
		chi := 100.0/1400 + 100.0/600
		approx(t, "SRM.ChiSquare", res.SRM.ChiSquare, chi, 1e-9)
		approx(t, "SRM.PValue", res.SRM.PValue, math.Erfc(math.Sqrt(chi/2)), 1e-9)
		approx(t, "SRM.PValue (published to 4 digits)", res.SRM.PValue, 0.6256, 5e-5)
		approx(t, "control.ExpectedN", res.Groups[0].ExpectedN, 1400, 1e-9)
		approx(t, "treatment.ExpectedN", res.Groups[1].ExpectedN, 600, 1e-9)
		if res.SRM.Mismatch || res.Groups[0].Probability != 0.9 || res.Groups[0].N != 1410 {
			t.Fatalf("SRM %+v groups %+v: want no mismatch, the current probability 0.9 shown, 1410 users", res.SRM, res.Groups)
		}
		res.Warnings = withoutPeeking(t, res)
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "weighs each period's probabilities") ||
			!strings.Contains(res.Warnings[0], "version 2, 1000 users: --enrolled-from 2026-03-02T09:16:39.5Z") ||
			!strings.Contains(res.Warnings[0], "version 1, 1000 users: --enrolled-from 2026-03-02T08:00:00Z --enrolled-before 2026-03-02T09:16:39.5Z") {
			t.Fatalf("Warnings=%q", res.Warnings)
		}

		// One period alone, by the enrollment window: after the change,
		// 890/110 against 900/100 (chi-square = 10²/900 + 10²/100); before it,
		// 520/480 against 500/500 (chi-square = 20²/500 + 20²/500 = 1.6).
		for _, tc := range []struct {
			name         string
			from, before time.Time
			n            [2]int64
			expected     [2]float64
			version      string
		}{
			{"After", change, time.Time{}, [2]int64{890, 110}, [2]float64{900, 100}, "version 2 (from 2026-03-02T09:16:39Z)"},
			{"Before", time.Time{}, change, [2]int64{520, 480}, [2]float64{500, 500}, "version 1 (from 2026-03-02T08:00:00Z)"},
		} {
			res, err := w.Analyze(ctx, results.Query{Method: stats.MethodFixed, ExperimentID: "ramp", OutcomeSQL: resultstest.BinarySQL, TimeColumn: resultstest.TimeColumn,
				EnrolledFrom: tc.from, EnrolledBefore: tc.before})
			if err != nil {
				t.Fatal(err)
			}
			chi := 0.0
			for i, g := range res.Groups {
				if g.N != tc.n[i] {
					t.Fatalf("%s: %s n=%d, want %d", tc.name, g.Name, g.N, tc.n[i])
				}
				approx(t, tc.name+" "+g.Name+".ExpectedN", g.ExpectedN, tc.expected[i], 1e-9)
				d := float64(tc.n[i]) - tc.expected[i]
				chi += d * d / tc.expected[i]
			}
			approx(t, tc.name+" SRM.ChiSquare", res.SRM.ChiSquare, chi, 1e-9)
			approx(t, tc.name+" SRM.PValue", res.SRM.PValue, math.Erfc(math.Sqrt(chi/2)), 1e-9)
			res.Warnings = withoutPeeking(t, res)
			if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "every user analysed enrolled under those of "+tc.version) {
				t.Fatalf("%s: Warnings=%q", tc.name, res.Warnings)
			}
			if (res.EnrolledFrom == nil) != tc.from.IsZero() || (res.EnrolledBefore == nil) != tc.before.IsZero() {
				t.Fatalf("%s: window %v %v in the result", tc.name, res.EnrolledFrom, res.EnrolledBefore)
			}
		}

		// An empty window is refused.
		_, err = w.Analyze(ctx, results.Query{Method: stats.MethodFixed, ExperimentID: "ramp", OutcomeSQL: resultstest.BinarySQL, EnrolledFrom: change, EnrolledBefore: change})
		if assign.ErrorCode(err) != assign.EINVALID || assign.ErrorField(err) != "enrolled_before" {
			t.Fatalf("empty window: err=%v, want EINVALID on enrolled_before", err)
		}

		// Given groups (an analyst's override) are taken as they are.
		res, err = w.Analyze(ctx, results.Query{Method: stats.MethodFixed, ExperimentID: "ramp", OutcomeSQL: resultstest.BinarySQL, TimeColumn: resultstest.TimeColumn,
			Groups: []assign.Group{{Name: "control", Probability: 0.9}, {Name: "treatment", Probability: 0.1}}})
		if err != nil {
			t.Fatal(err)
		}
		if !res.SRM.Mismatch || res.Groups[0].ExpectedN != 1800 {
			t.Fatalf("with given groups: SRM %+v, groups %+v, want the mismatch against 0.9/0.1", res.SRM, res.Groups)
		}
	})
}

// A time column without a zone (TIMESTAMP) is read as UTC, whatever zone
// the session would otherwise have: the published prop.test numbers, with a
// warning naming the column's type. On PostgreSQL, a URL asking for a
// Tokyo session (TimeZone=Asia/Tokyo, a startup parameter) changes nothing. The
// process-zone side (TZ) is TestResultsCommand_TimeZones in cmd/assignctl.
func TestWarehouse_Analyze_ZonelessTime(t *testing.T) {
	ref := resultstest.PropTest()
	ref.Fixture.OrdersWithoutZone = true
	check := func(t *testing.T, w *results.Warehouse) {
		res, err := w.Analyze(context.Background(), results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", OutcomeSQL: resultstest.BinarySQL, TimeColumn: resultstest.TimeColumn})
		if err != nil {
			t.Fatal(err)
		}
		checkReport(t, res.Report, ref)
		// The fixed-horizon test on the running fixture warns first.
		if res.TimeColumnType != "TIMESTAMP" || res.TimeRule != "ordered_at > enrolled_at" || len(res.Warnings) != 2 ||
			res.Warnings[0] != res.PeekingWarning || res.Warnings[1] != "ordered_at has no time zone (TIMESTAMP): its values are read as UTC" {
			t.Fatalf("type %q rule %q warnings %q", res.TimeColumnType, res.TimeRule, res.Warnings)
		}
	}
	t.Run("duckdb", func(t *testing.T) { check(t, mustOpen(t, resultstest.LoadDuckDB(t, ref.Fixture))) })
	t.Run("postgres", func(t *testing.T) {
		u := resultstest.LoadPostgres(t, ref.Fixture)
		check(t, mustOpen(t, u))
		check(t, mustOpen(t, u+"&TimeZone=Asia/Tokyo"))
	})
}

// withoutPeeking returns the warnings of res but the peeking warning, which
// the fixed-horizon test on a running fixture below its cap puts first.
func withoutPeeking(t *testing.T, res *results.Result) []string {
	t.Helper()
	if res.PeekingWarning == "" {
		return res.Warnings
	}
	if len(res.Warnings) == 0 || res.Warnings[0] != res.PeekingWarning {
		t.Fatalf("Warnings=%q, want the peeking warning first", res.Warnings)
	}
	return res.Warnings[1:]
}

// The method follows the status: sequential while the experiment runs (the
// mixture tuned for its cap), fixed once it stopped; the fixed-horizon test
// on a running experiment below its cap warns; the runtime runs from the
// first enrollment to now or to the stop (the first of the last run of
// stopped versions, not a later change such as a rollout).
func TestWarehouse_Analyze_Method(t *testing.T) {
	ref := resultstest.PropTest()
	var first time.Time
	for _, e := range ref.Fixture.Enrollments {
		if e.ExperimentID == "prop-test" && (first.IsZero() || e.EnrolledAt.Before(first)) {
			first = e.EnrolledAt
		}
	}
	now := resultstest.T0.Add(50 * time.Hour)
	q := results.Query{ExperimentID: "prop-test", OutcomeSQL: resultstest.BinarySQL, TimeColumn: resultstest.TimeColumn, Now: now}
	want := stats.SequentialBinary(stats.Binary{N: 128, Conversions: 39}, stats.Binary{N: 214, Conversions: 94}, 100000, 0.95)
	// The effect the sequential test detects at this look (alpha as Analyze computes it, 1 - level).
	want.DetectableEffect = stats.Float(stats.SequentialDetectableProportion(128, 214, 39.0/128, 100000, 1-0.95, 1-0.95, 0.8) - 39.0/128)
	forEachWarehouse(t, ref.Fixture, func(t *testing.T, w *results.Warehouse) {
		ctx := context.Background()
		res, err := w.Analyze(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Comparisons[0]
		if res.Method != stats.MethodSequential || res.Status != assign.StatusRunning || res.MaximumSampleSize != 100000 ||
			*c.Sequential != want || c.Significant || res.PeekingWarning != "" {
			t.Fatalf("running: method %q status %q cap %d sequential %+v (want %+v) significant %v warning %q",
				res.Method, res.Status, res.MaximumSampleSize, c.Sequential, want, c.Significant, res.PeekingWarning)
		}
		if !res.FirstEnrolledAt.Equal(first) || !res.RuntimeEnd.Equal(now) || res.RuntimeSeconds != now.Sub(first).Seconds() {
			t.Errorf("runtime %v to %v (%vs), want %v to %v", res.FirstEnrolledAt, res.RuntimeEnd, res.RuntimeSeconds, first, now)
		}
		fq := q
		fq.Method = stats.MethodFixed
		if res, err = w.Analyze(ctx, fq); err != nil {
			t.Fatal(err)
		}
		if res.Method != stats.MethodFixed || !res.Comparisons[0].Significant || len(res.Warnings) == 0 || res.Warnings[0] != res.PeekingWarning ||
			!strings.Contains(res.PeekingWarning, "FIXED-HORIZON TEST BEFORE THE PLANNED SAMPLE: the experiment is running with 342 of its 100000 planned users") {
			t.Fatalf("fixed: method %q warnings %q", res.Method, res.Warnings)
		}
	})

	// Stopped at T0+48h, then rolled out at T0+60h (still stopped).
	stoppedAt := resultstest.T0.Add(48 * time.Hour)
	for i, at := range []time.Time{stoppedAt, stoppedAt.Add(12 * time.Hour)} {
		e := &assign.Experiment{ID: "prop-test", MaxSampleSize: 100000, SamplingProbability: 1, Groups: ref.Fixture.Groups,
			Status: assign.StatusStopped, Version: int64(2 + i), CreatedAt: resultstest.T0.Add(-time.Hour), UpdatedAt: at}
		if i == 1 {
			e.Winner = "new_journey"
		}
		ref.Fixture.Experiments = append(ref.Fixture.Experiments, warehouse.NewExperimentRow(e, "admin", at))
	}
	forEachWarehouse(t, ref.Fixture, func(t *testing.T, w *results.Warehouse) {
		res, err := w.Analyze(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if res.Method != stats.MethodFixed || res.Status != assign.StatusStopped || res.PeekingWarning != "" || !res.Comparisons[0].Significant {
			t.Fatalf("stopped: method %q status %q warning %q", res.Method, res.Status, res.PeekingWarning)
		}
		if !res.RuntimeEnd.Equal(stoppedAt) || res.RuntimeSeconds != stoppedAt.Sub(first).Seconds() {
			t.Errorf("stopped runtime %v to %v, want to %v", res.FirstEnrolledAt, res.RuntimeEnd, stoppedAt)
		}
	})
}
