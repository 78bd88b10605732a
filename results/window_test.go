package results_test

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/results"
	"github.com/assign-dev/assign/results/resultstest"
	"github.com/assign-dev/assign/stats"
	"github.com/assign-dev/assign/warehouse"
)

// windowFixture enrolls 400 users a minute apart from T0, alternating
// between control and treatment. User i orders, by i mod 5: 0 an hour after
// enrolling, 1 eight days after (outside a 7d window), 2 exactly 7 days
// after (inside: the window's end is included), 3 an hour before enrolling
// (never counted), 4 never.
func windowFixture(id string) *resultstest.Fixture {
	groups := []assign.Group{{Name: "control", Probability: 0.5}, {Name: "treatment", Probability: 0.5}}
	e := &assign.Experiment{ID: id, MaxSampleSize: 100000, SamplingProbability: 1, Groups: groups,
		Status: assign.StatusRunning, Version: 1, CreatedAt: resultstest.T0.Add(-time.Hour), UpdatedAt: resultstest.T0.Add(-time.Hour)}
	f := &resultstest.Fixture{ExperimentID: id, Groups: groups,
		Experiments: []warehouse.ExperimentRow{warehouse.NewExperimentRow(e, "fixture", e.CreatedAt)}}
	for i := range 400 {
		user, at := fmt.Sprintf("u-%03d", i), resultstest.T0.Add(time.Duration(i)*time.Minute)
		f.Enrollments = append(f.Enrollments, warehouse.EnrollmentRow{ExperimentID: id, UserID: user, Group: groups[i%2].Name, EnrolledAt: at})
		switch i % 5 {
		case 0:
			f.Orders = append(f.Orders, resultstest.Order{UserID: user, OrderedAt: at.Add(time.Hour), Converted: 1, Amount: 10})
		case 1:
			f.Orders = append(f.Orders, resultstest.Order{UserID: user, OrderedAt: at.Add(8 * 24 * time.Hour), Converted: 1, Amount: 10})
		case 2:
			f.Orders = append(f.Orders, resultstest.Order{UserID: user, OrderedAt: at.Add(7 * 24 * time.Hour), Converted: 1, Amount: 10})
		case 3:
			f.Orders = append(f.Orders, resultstest.Order{UserID: user, OrderedAt: at.Add(-time.Hour), Converted: 1, Amount: 10})
		}
	}
	return f
}

// A 7-day window counts only the orders within 7 days after each user's
// enrollment, and only the users whose 7 days have passed by now: the
// others are left out and counted.
func TestWarehouse_Analyze_Window(t *testing.T) {
	f := windowFixture("window")
	// Users enrolled at or before now - 7d = T0 + 200 min: i = 0..200.
	now := resultstest.T0.Add(7*24*time.Hour + 200*time.Minute)
	want := map[string][2]int64{} // group: n, conversions
	for i := 0; i <= 200; i++ {
		g := f.Groups[i%2].Name
		c := want[g]
		c[0]++
		if i%5 == 0 || i%5 == 2 {
			c[1]++
		}
		want[g] = c
	}
	forEachWarehouse(t, f, func(t *testing.T, w *results.Warehouse) {
		ctx := context.Background()
		q := results.Query{ExperimentID: "window", OutcomeSQL: resultstest.BinarySQL, TimeColumn: resultstest.TimeColumn,
			Window: 7 * 24 * time.Hour, Now: now, Method: stats.MethodFixed}
		res, err := w.Analyze(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range res.Groups {
			if got := [2]int64{g.N, *g.Conversions}; got != want[g.Name] {
				t.Errorf("%s: n, conversions = %v, want %v", g.Name, got, want[g.Name])
			}
		}
		if got, want := res.WindowOpenUsers, int64(199); got != want {
			t.Errorf("WindowOpenUsers=%d, want %d", got, want)
		}
		if res.Window != "7d" || res.WindowClosedBy == nil || !res.WindowClosedBy.Equal(now) {
			t.Errorf("Window=%q closed by %v, want 7d by %v", res.Window, res.WindowClosedBy, now)
		}
		if !containsWarning(res.Warnings, "199 users enrolled after 2026-03-02T12:20:00Z are left out: their 7d window had not closed by 2026-03-09T12:20:00Z") {
			t.Errorf("Warnings=%q, want the open windows named", res.Warnings)
		}

		// Without the window the eight-day orders count, and every user.
		q.Window = 0
		res, err = w.Analyze(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var n, conv int64
		for _, g := range res.Groups {
			n, conv = n+g.N, conv+*g.Conversions
		}
		if n != 400 || conv != 240 || res.WindowOpenUsers != 0 {
			t.Errorf("without a window: n=%d conversions=%d open=%d, want 400, 240, 0", n, conv, res.WindowOpenUsers)
		}

		// A DATE has no time of day: refused for a window or CUPED, a
		// warning otherwise.
		dated := q
		dated.OutcomeSQL, dated.TimeColumn = "SELECT user_id, CAST(ordered_at AS DATE) AS ordered_on, converted FROM orders", "ordered_on"
		for _, cuped := range []bool{false, true} {
			dq := dated
			dq.CUPED, dq.Window = cuped, 7*24*time.Hour
			if cuped {
				dq.Window = 0
			}
			if _, err := w.Analyze(ctx, dq); assign.ErrorCode(err) != assign.EINVALID || !strings.Contains(assign.ErrorMessage(err), "ordered_on is a DATE") {
				t.Errorf("DATE column (cuped %v): err=%v, want EINVALID naming the column", cuped, err)
			}
		}
		dated.Window = 0
		if res, err := w.Analyze(ctx, dated); err != nil {
			t.Fatal(err)
		} else if !containsWarning(res.Warnings, "ordered_on is a DATE, without a time of day") {
			t.Errorf("DATE column: warnings %q", res.Warnings)
		}

		// A window needs the time column.
		q.Window, q.TimeColumn = 7*24*time.Hour, ""
		if _, err := w.Analyze(ctx, q); assign.ErrorCode(err) != assign.EINVALID || !strings.Contains(assign.ErrorMessage(err), "time column") {
			t.Errorf("window without a time column: err=%v, want EINVALID naming the time column", err)
		}
	})
}

func containsWarning(warnings []string, s string) bool {
	for _, w := range warnings {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

// percentile is the linear interpolation between closest ranks (R's
// quantile type 7, numpy's default), which percentile_cont computes in
// PostgreSQL and DuckDB.
func percentile(values []float64, p float64) float64 {
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	h := p * float64(len(s)-1)
	lo := math.Floor(h)
	if int(lo)+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[int(lo)] + (h-lo)*(s[int(lo)+1]-s[int(lo)])
}

// Capping replaces every user's value above the pooled percentile by it,
// in both groups, before the means and the test.
func TestWarehouse_Analyze_Cap(t *testing.T) {
	groups := []assign.Group{{Name: "a", Probability: 0.5}, {Name: "b", Probability: 0.5}}
	values := map[string][]float64{"a": {}, "b": {}}
	for i := range 120 {
		v := float64((i*37)%101) / 4 // 0 .. 25 in quarters, exact in binary
		if i%40 == 7 {
			v = 5000 // a whale
		}
		values[groups[i%2].Name] = append(values[groups[i%2].Name], v)
	}
	f := resultstest.NewNumeric("cap", groups, values)
	all := append(append([]float64(nil), values["a"]...), values["b"]...)
	capAt := percentile(all, 0.95)
	capped := map[string][]float64{}
	var over int64
	for _, g := range groups {
		for _, v := range values[g.Name] {
			if v > capAt {
				over++
			}
			capped[g.Name] = append(capped[g.Name], math.Min(v, capAt))
		}
	}
	want, err := stats.Analyze(stats.Input{Method: stats.MethodFixed, Groups: []stats.GroupInput{
		{Name: "a", Probability: 0.5, Samples: capped["a"]}, {Name: "b", Probability: 0.5, Samples: capped["b"]}}})
	if err != nil {
		t.Fatal(err)
	}
	forEachWarehouse(t, f, func(t *testing.T, w *results.Warehouse) {
		res, err := w.Analyze(context.Background(), results.Query{ExperimentID: "cap", OutcomeSQL: resultstest.NumericSQL,
			TimeColumn: resultstest.TimeColumn, CapPercentile: 95, Method: stats.MethodFixed})
		if err != nil {
			t.Fatal(err)
		}
		if res.Cap == nil {
			t.Fatal("Cap=nil")
		}
		approx(t, "Cap.Value", res.Cap.Value, capAt, 1e-9)
		if res.Cap.Users != over || res.Cap.Percentile != 95 {
			t.Errorf("Cap=%+v, want %d users over the 95th percentile", res.Cap, over)
		}
		for i, g := range res.Groups {
			approx(t, g.Name+".Mean", g.Mean, float64(want.Groups[i].Mean), 1e-9)
			approx(t, g.Name+".SD", g.SD, float64(want.Groups[i].SD), 1e-9)
		}
		c, wc := res.Comparisons[0], want.Comparisons[0]
		approx(t, "Difference", c.Difference, float64(wc.Difference), 1e-9)
		approx(t, "PValue", c.PValue, float64(wc.PValue), 1e-9)
		approx(t, "DifferenceCI.Lower", c.DifferenceCI.Lower, float64(wc.DifferenceCI.Lower), 1e-9)

		// A binary outcome cannot be capped.
		_, err = w.Analyze(context.Background(), results.Query{ExperimentID: "cap", OutcomeSQL: resultstest.BinarySQL,
			TimeColumn: resultstest.TimeColumn, CapPercentile: 95})
		if assign.ErrorCode(err) != assign.EINVALID {
			t.Errorf("cap of a binary outcome: err=%v, want EINVALID", err)
		}
	})
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * results.Day, "36h": 36 * time.Hour, "1d12h": 36 * time.Hour, "1.5d": 36 * time.Hour, " 90m ": 90 * time.Minute} {
		if got, err := results.ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q)=%v, %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "-1d", "7x", "d", "7dd", "-3h"} {
		if _, err := results.ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
	for d, want := range map[time.Duration]string{7 * results.Day: "7d", 36 * time.Hour: "1d12h0m0s", 90 * time.Minute: "1h30m0s"} {
		if got := results.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v)=%q, want %q", d, got, want)
		}
	}
}

// thirdMoment is avg((v - mean)³).
func thirdMoment(values []float64) float64 {
	var mean, m3 float64
	for _, v := range values {
		mean += v
	}
	mean /= float64(len(values))
	for _, v := range values {
		m3 += (v - mean) * (v - mean) * (v - mean)
	}
	return m3 / float64(len(values))
}

// A treatment whose mean rests on two whales is flagged: the skewness of
// the difference, from each group's third moment computed in SQL, equals
// the one computed here from the values, and a warning says what to do.
func TestWarehouse_Analyze_Skewness(t *testing.T) {
	groups := []assign.Group{{Name: "a", Probability: 0.5}, {Name: "b", Probability: 0.5}}
	values := map[string][]float64{}
	for i := range 200 {
		g := groups[i%2].Name
		v := float64(i%7) / 2
		if g == "b" && (i == 11 || i == 13) {
			v = 4000
		}
		values[g] = append(values[g], v)
	}
	want := stats.DifferenceSkewness(stats.Summarize(values["a"]), stats.Summarize(values["b"]), thirdMoment(values["a"]), thirdMoment(values["b"]))
	if !(want > stats.SkewnessLimit) {
		t.Fatalf("fixture skewness %v: not beyond the limit", want)
	}
	forEachWarehouse(t, resultstest.NewNumeric("skewed", groups, values), func(t *testing.T, w *results.Warehouse) {
		q := results.Query{ExperimentID: "skewed", OutcomeSQL: resultstest.NumericSQL, TimeColumn: resultstest.TimeColumn, Method: stats.MethodFixed}
		res, err := w.Analyze(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		approx(t, "Skewness", res.Comparisons[0].Skewness, want, 1e-9)
		if !containsWarning(res.Warnings, "b vs a: the difference is skewed (skewness "+strconv.FormatFloat(want, 'f', 2, 64)+", beyond 0.2)") ||
			!containsWarning(res.Warnings, "--cap-percentile 99") {
			t.Errorf("Warnings=%q, want the skewness named with the remedy", res.Warnings)
		}
		// CUPED does not hide it: the unadjusted values are checked.
		cq := q
		cq.CUPED = true
		if cres, err := w.Analyze(context.Background(), cq); err != nil {
			t.Fatal(err)
		} else if !containsWarning(cres.Warnings, "b vs a: the difference is skewed before the CUPED adjustment") {
			t.Errorf("CUPED: warnings %q, want the skewness named", cres.Warnings)
		}
		// A binary outcome has no skewness to report.
		q.OutcomeSQL = resultstest.BinarySQL
		if res, err = w.Analyze(context.Background(), q); err != nil {
			t.Fatal(err)
		} else if !math.IsNaN(float64(res.Comparisons[0].Skewness)) {
			t.Errorf("binary Skewness=%v, want null", res.Comparisons[0].Skewness)
		}
	})
}
