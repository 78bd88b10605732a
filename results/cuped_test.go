package results_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/results"
	"github.com/assign-dev/assign/results/resultstest"
	"github.com/assign-dev/assign/stats"
	"github.com/assign-dev/assign/warehouse"
)

// cupedFixture: 300 users per group; each has a pre-enrollment spend x
// (split over two orders 3 and 10 days before enrolling) and a spend y
// after, y = 0.8·x + noise (+2 in treatment); an order 20 days before
// enrolling is outside the 14-day lookback and must not count.
func cupedFixture() (*resultstest.Fixture, map[string][][2]float64) {
	groups := []assign.Group{{Name: "control", Probability: 0.5}, {Name: "treatment", Probability: 0.5}}
	e := &assign.Experiment{ID: "cuped", MaxSampleSize: 100000, SamplingProbability: 1, Groups: groups,
		Status: assign.StatusStopped, Version: 1, CreatedAt: resultstest.T0.Add(-time.Hour), UpdatedAt: resultstest.T0.Add(-time.Hour)}
	f := &resultstest.Fixture{ExperimentID: "cuped", Groups: groups,
		Experiments: []warehouse.ExperimentRow{warehouse.NewExperimentRow(e, "fixture", e.CreatedAt)}}
	r := rand.New(rand.NewPCG(7, 11))
	xy := map[string][][2]float64{}
	for i := range 600 {
		g := groups[i%2].Name
		user, at := fmt.Sprintf("u-%03d", i), resultstest.T0.Add(time.Duration(i)*time.Minute)
		f.Enrollments = append(f.Enrollments, warehouse.EnrollmentRow{ExperimentID: "cuped", UserID: user, Group: g, EnrolledAt: at})
		// Quarters are exact in binary, so the SQL sums equal Go's.
		x := float64(r.IntN(400)) / 4
		y := float64(int(0.8*x*4)+r.IntN(80)) / 4
		if g == "treatment" {
			y += 2
		}
		xy[g] = append(xy[g], [2]float64{x, y})
		f.Orders = append(f.Orders,
			resultstest.Order{UserID: user, OrderedAt: at.Add(-3 * 24 * time.Hour), Converted: 1, Amount: x / 2},
			resultstest.Order{UserID: user, OrderedAt: at.Add(-10 * 24 * time.Hour), Converted: 1, Amount: x / 2},
			resultstest.Order{UserID: user, OrderedAt: at.Add(-20 * 24 * time.Hour), Converted: 1, Amount: 500},
			resultstest.Order{UserID: user, OrderedAt: at.Add(time.Hour), Converted: 1, Amount: y})
	}
	return f, xy
}

// CUPED through the warehouse equals the adjustment computed in the test
// from the raw per-user values: theta pooled within the groups
// (sum (x-x̄g)(y-ȳg) / sum (x-x̄g)², the regression y ~ group + x), each
// user's y − theta·(x − x̄), then Welch's test of those values.
func TestWarehouse_Analyze_CUPED(t *testing.T) {
	f, xy := cupedFixture()
	var sxy, sxx, sumX, n float64
	for _, pairs := range xy {
		var mx, my float64
		for _, p := range pairs {
			mx, my = mx+p[0], my+p[1]
		}
		mx, my = mx/float64(len(pairs)), my/float64(len(pairs))
		for _, p := range pairs {
			sxy += (p[0] - mx) * (p[1] - my)
			sxx += (p[0] - mx) * (p[0] - mx)
			sumX += p[0]
			n++
		}
	}
	theta, meanX := sxy/sxx, sumX/n
	adjusted := map[string][]float64{}
	for g, pairs := range xy {
		for _, p := range pairs {
			adjusted[g] = append(adjusted[g], p[1]-theta*(p[0]-meanX))
		}
	}
	want, err := stats.Analyze(stats.Input{Method: stats.MethodFixed, Groups: []stats.GroupInput{
		{Name: "control", Probability: 0.5, Samples: adjusted["control"]},
		{Name: "treatment", Probability: 0.5, Samples: adjusted["treatment"]}}})
	if err != nil {
		t.Fatal(err)
	}
	forEachWarehouse(t, f, func(t *testing.T, w *results.Warehouse) {
		ctx := context.Background()
		q := results.Query{ExperimentID: "cuped", OutcomeSQL: resultstest.NumericSQL, TimeColumn: resultstest.TimeColumn, CUPED: true}
		res, err := w.Analyze(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if res.CUPED == nil {
			t.Fatal("CUPED=nil")
		}
		approx(t, "Theta", res.CUPED.Theta, theta, 1e-9)
		if res.CUPED.LookbackSeconds != (14 * 24 * time.Hour).Seconds() {
			t.Errorf("LookbackSeconds=%v", res.CUPED.LookbackSeconds)
		}
		for i, g := range res.Groups {
			approx(t, g.Name+".Mean", g.Mean, float64(want.Groups[i].Mean), 1e-9)
			approx(t, g.Name+".SD", g.SD, float64(want.Groups[i].SD), 1e-9)
		}
		c, wc := res.Comparisons[0], want.Comparisons[0]
		approx(t, "Difference", c.Difference, float64(wc.Difference), 1e-9)
		approx(t, "StdErr", c.StdErr, float64(wc.StdErr), 1e-9)
		approx(t, "PValue", c.PValue, float64(wc.PValue), 1e-9)
		approx(t, "DifferenceCI.Upper", c.DifferenceCI.Upper, float64(wc.DifferenceCI.Upper), 1e-9)
		if !containsWarning(res.Warnings, "CUPED: the means and comparisons are of the outcome adjusted") {
			t.Errorf("Warnings=%q, want CUPED named", res.Warnings)
		}

		// The adjustment narrows the interval of the plain analysis.
		q.CUPED = false
		plain, err := w.Analyze(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if !(c.StdErr < plain.Comparisons[0].StdErr) || !(res.CUPED.VarianceReduction > 0.3) {
			t.Errorf("std err %v with CUPED, %v without; variance reduction %v", c.StdErr, plain.Comparisons[0].StdErr, res.CUPED.VarianceReduction)
		}
		if plain.CUPED != nil {
			t.Error("CUPED set without CUPED")
		}

		// A covariate without variance (a lookback holding no orders) adjusts nothing, and says so.
		q.CUPED, q.CUPEDLookback = true, time.Hour
		flat, err := w.Analyze(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if flat.CUPED.Theta != 0 || !strings.Contains(flat.CUPED.Note, "no variance") {
			t.Errorf("flat covariate: theta %v note %q", flat.CUPED.Theta, flat.CUPED.Note)
		}
		approx(t, "flat.Difference", flat.Comparisons[0].Difference, float64(plain.Comparisons[0].Difference), 1e-9)

		// A binary outcome is adjusted as a 0/1 number, and the note says so.
		q.OutcomeSQL, q.CUPEDLookback = resultstest.BinarySQL, 0
		bin, err := w.Analyze(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if bin.Outcome != stats.OutcomeNumeric || bin.OutcomeColumn != results.ColumnConverted || !containsWarning(bin.Warnings, "converted is analysed as a 0/1 number") {
			t.Errorf("binary CUPED: outcome %q column %q warnings %q", bin.Outcome, bin.OutcomeColumn, bin.Warnings)
		}
	})
}
