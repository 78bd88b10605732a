package stats_test

import (
	"math"
	"strings"
	"testing"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/stats"
)

// The reference values of the power functions and MakePlan come from
// testdata/power_reference.py, an mpmath script (30 digits) that shares no
// code with gonum or this package: the normal power formula written out,
// and the noncentral t as E[Φ(ncp - c·√(V/df))] integrated with mpmath.quad
// against the χ² density, the t quantile from mpmath's incomplete beta.
// Where R's help pages print examples they agree with it to every printed
// digit: ?power.t.test, power.t.test(n = 20, delta = 1) gives power =
// 0.8689528 and power.t.test(power = .90, delta = 1) n = 22.02110;
// ?power.prop.test, power.prop.test(n = 50, p1 = .50, p2 = .75) gives
// power = 0.7401659 and power.prop.test(p1 = .50, p2 = .75, power = .90)
// n = 76.7. Formulas: see stats/power.go (Fleiss' pooled z; the noncentral t
// of power.t.test, generalised to n2 = ratio·n1 as TTestIndPower).
const tolPower = 1e-9

func TestPower_References(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		// R ?power.t.test examples (two-sample, sd 1, alpha 0.05).
		{"power.t.test(n=20, delta=1)$power", stats.PowerMeans(20, 20, 1, 1, 0.05), 0.868952801692127008348026870789},
		{"power.t.test(power=.9, delta=1)$n", stats.SampleSizeMeans(1, 1, 0.05, 0.9, 1), 22.0210955700969264505104514593},
		{"power.t.test(n=20, power=.9)$delta", stats.DetectableMean(20, 20, 1, 0.05, 0.9), 1.05199312665845853238467221798},
		// R ?power.prop.test examples.
		{"power.prop.test(n=50, p1=.5, p2=.75)$power", stats.PowerProportions(50, 50, 0.5, 0.75, 0.05), 0.740165901331387822906750818606},
		{"power.prop.test(p1=.5, p2=.75, power=.9)$n", stats.SampleSizeProportions(0.5, 0.75, 0.05, 0.9, 1), 76.706928451777446680715241138},
		{"power.prop.test(n=50, p1=.5, power=.9)$p2", stats.DetectableProportion(50, 50, 0.5, 0.05, 0.9), 0.802630581703894752969909196527},
		// Unequal allocation 1:2 (TTestIndPower(ratio=2); Fleiss with r = 2).
		{"proportions 0.10 vs 0.12, n2 = 2·n1, power .8: n1", stats.SampleSizeProportions(0.1, 0.12, 0.05, 0.8, 2), 2910.51283085235292570858315655},
		{"means delta 0.5 sd 1, n2 = 2·n1, power .8: n1", stats.SampleSizeMeans(0.5, 1, 0.05, 0.8, 2), 47.7420354875926958500492647518},
	} {
		if math.IsNaN(tc.got) || math.Abs(tc.got-tc.want) > tolPower*math.Max(1, math.Abs(tc.want)) {
			t.Errorf("%s = %.12g, want %.12g", tc.name, tc.got, tc.want)
		}
	}
	// R's printed digits too.
	approx(t, "R power.t.test power", stats.PowerMeans(20, 20, 1, 1, 0.05), 0.8689528, 5e-8)
	approx(t, "R power.t.test n", stats.SampleSizeMeans(1, 1, 0.05, 0.9, 1), 22.02110, 5e-6)
	approx(t, "R power.prop.test power", stats.PowerProportions(50, 50, 0.5, 0.75, 0.05), 0.7401659, 5e-8)
	// Far from the references: a million users per group is the normal limit.
	approx(t, "large n", stats.PowerMeans(1e6, 1e6, 0.003, 1, 0.05), 0.5640932303370428, 1e-6)
}

// MakePlan against testdata/power_reference.py (see TestPower_References).
func TestMakePlan(t *testing.T) {
	t.Run("SeedRelative", func(t *testing.T) {
		// The seed's experiment: 11% baseline, +20% relative (0.132), 50/50,
		// sampling 0.9: 3448.40... per group.
		p, err := stats.MakePlan(stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.11, Effect: 0.2, Relative: true, SamplingProbability: 0.9})
		if err != nil {
			t.Fatal(err)
		}
		n := 3448.40347173201953172750624786
		approx(t, "ExactTotal", p.ExactTotal, 2*n, 1e-6)
		approx(t, "Effect", p.Effect, 0.022, 1e-15)
		approx(t, "Target", p.Target, 0.132, 1e-15)
		if p.Total != 6898 || p.Groups[0].Users != 3449 || p.Groups[1].Users != 3449 ||
			p.TotalBeforeSampling != int64(math.Ceil(6898/0.9)) || p.Groups[0].BeforeSampling != int64(math.Ceil(n/0.9)) {
			t.Fatalf("plan %+v", p)
		}
		if p.Alpha != 0.05 || p.ComparisonAlpha != 0.05 || p.Power != 0.8 || p.Method != stats.MethodPlanProportions || p.Reverse {
			t.Fatalf("plan %+v", p)
		}
	})
	t.Run("ThreeGroups", func(t *testing.T) {
		// Two comparisons: each at alpha 0.025.
		p, err := stats.MakePlan(stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.1, Effect: 0.02, Groups: 3})
		if err != nil {
			t.Fatal(err)
		}
		n := 4651.41787657651419436531217991
		approx(t, "ExactTotal", p.ExactTotal, 3*n, 1e-6)
		approx(t, "ComparisonAlpha", p.ComparisonAlpha, 0.025, 1e-15)
		if len(p.Groups) != 3 || p.Groups[2].Users != 4652 || p.Total != 3*4652 {
			t.Fatalf("plan %+v", p)
		}
	})
	t.Run("UnequalAllocation", func(t *testing.T) {
		// One third in the control, two thirds treated: n2 = 2·n1.
		p, err := stats.MakePlan(stats.PlanInput{Outcome: stats.OutcomeNumeric, SD: 1, Effect: 0.5, Probabilities: []float64{1.0 / 3, 2.0 / 3}})
		if err != nil {
			t.Fatal(err)
		}
		n1 := 47.7420354875926958500492647518
		approx(t, "ExactTotal", p.ExactTotal, 3*n1, 1e-6)
		approx(t, "control ExactUsers", p.Groups[0].ExactUsers, n1, 1e-6)
		approx(t, "treatment ExactUsers", p.Groups[1].ExactUsers, 2*n1, 1e-6)
		if p.Groups[0].Users != 48 || p.Groups[1].Users != 96 || p.Total != 144 || p.Method != stats.MethodPlanMeans {
			t.Fatalf("plan %+v", p)
		}
	})
	t.Run("ReverseBinary", func(t *testing.T) {
		p, err := stats.MakePlan(stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.11, MaximumSampleSize: 3000, SamplingProbability: 0.9})
		if err != nil {
			t.Fatal(err)
		}
		p2 := 0.144052571146981946721002349807
		approx(t, "Target", p.Target, p2, 1e-9)
		approx(t, "Effect", p.Effect, p2-0.11, 1e-9)
		approx(t, "RelativeEffect", p.RelativeEffect, (p2-0.11)/0.11, 1e-8)
		if !p.Reverse || p.Total != 3000 || p.TotalBeforeSampling != 3334 || p.Groups[0].Users != 1500 {
			t.Fatalf("plan %+v", p)
		}
	})
	t.Run("ReverseNumeric", func(t *testing.T) {
		for _, tc := range []struct {
			probs []float64
			want  float64
		}{
			{[]float64{0.5, 0.5}, 2.04664425278500807682359548086},
			{[]float64{0.2, 0.8}, 2.55830531598126009602949435107},
		} {
			p, err := stats.MakePlan(stats.PlanInput{Outcome: stats.OutcomeNumeric, Baseline: 10, SD: 20, MaximumSampleSize: 3000, Probabilities: tc.probs})
			if err != nil {
				t.Fatal(err)
			}
			approx(t, "Effect", p.Effect, tc.want, 1e-8)
			approx(t, "RelativeEffect", p.RelativeEffect, tc.want/10, 1e-8)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		for _, tc := range []struct {
			in    stats.PlanInput
			field string
		}{
			{stats.PlanInput{Outcome: "revenue", Baseline: 0.1, Effect: 0.01}, "outcome"},
			{stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 1.5, Effect: 0.01}, "baseline"},
			{stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.1}, "effect"},
			{stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.95, Effect: 0.1}, "effect"},
			{stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.1, Effect: 0.01, MaximumSampleSize: 10}, "effect"},
			{stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.1, Effect: 0.01, Alpha: 5}, "alpha"},
			{stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.1, Effect: 0.01, Power: 80}, "power"},
			{stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.1, Effect: 0.01, Groups: 1}, "groups"},
			{stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.1, Effect: 0.01, Probabilities: []float64{0.5, 0.4}}, "probabilities"},
			{stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.1, Effect: 0.01, SamplingProbability: 2}, "sampling_probability"},
			{stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.1, MaximumSampleSize: -1}, "maximum_sample_size"},
			{stats.PlanInput{Outcome: stats.OutcomeNumeric, Effect: 1}, "sd"},
			{stats.PlanInput{Outcome: stats.OutcomeNumeric, SD: 1, Effect: 0.1, Relative: true}, "baseline"},
		} {
			_, err := stats.MakePlan(tc.in)
			if assign.ErrorCode(err) != assign.EINVALID || assign.ErrorField(err) != tc.field {
				t.Errorf("%+v: err=%v, want invalid %q", tc.in, err, tc.field)
			}
		}
	})
}

// Fisher's exact test, two-sided as R's fisher.test. Reference values are
// exact fractions computed with Python's fractions.Fraction and math.comb
// (the sum of the hypergeometric probabilities at most the observed one):
//
//	4/6 vs 8/8    15/91           = 0.16483516483516483 (the case; R prints 0.1648)
//	3/4 vs 1/4    17/35           = 0.4857142857142857  (the TeaTasting table of R's ?fisher.test, two-sided; its one-sided example prints 0.2429 = 17/70)
//	2/12 vs 10/17 213473/3991995  = 0.05347526737884191
//	1/20 vs 7/22                  = 0.04712404712404712
func TestFisherExact(t *testing.T) {
	for _, tc := range []struct {
		x1, n1, x2, n2 int64
		want           float64
	}{
		{4, 6, 8, 8, 15.0 / 91},
		{8, 8, 4, 6, 15.0 / 91},
		{3, 4, 1, 4, 17.0 / 35},
		{2, 12, 10, 17, 213473.0 / 3991995},
		{1, 20, 7, 22, 0.04712404712404712},
		{0, 40, 0, 40, 1},
	} {
		approx(t, "FisherExact", stats.FisherExact(tc.x1, tc.n1, tc.x2, tc.n2), tc.want, 1e-12)
	}
	isNaN(t, "empty", stats.FisherExact(0, 0, 1, 2))
}

// The case through Analyze: 4/6 against 8/8 gets Fisher's p = 0.165,
// says so in the comparison and the verdict; the z-test would give 0.078.
func TestAnalyze_SmallSample(t *testing.T) {
	r := MustAnalyze(t, stats.Input{Groups: []stats.GroupInput{binaryGroup("control", 0.5, 6, 4), binaryGroup("treatment", 0.5, 8, 8)}})
	c := r.Comparisons[0]
	approx(t, "PValue", c.PValue, 15.0/91, 1e-12)
	isNaN(t, "Statistic", c.Statistic)
	if c.Test != stats.TestFisherExact || !strings.Contains(c.Note, "Fisher's exact test instead of the z-test") || c.Significant ||
		c.Verdict != "no significant difference between treatment and control: +33.3 pp (+50.0%), 95% CI -4.4 to +71.1 pp, p=0.16 (Fisher's exact test)" {
		t.Fatalf("comparison %+v", c)
	}
	// With enough users the z-test is back.
	r = MustAnalyze(t, stats.Input{Groups: []stats.GroupInput{binaryGroup("control", 0.5, 60, 40), binaryGroup("treatment", 0.5, 80, 70)}})
	if r.Comparisons[0].Test != stats.TestTwoProportionZ {
		t.Fatalf("Test=%q", r.Comparisons[0].Test)
	}
}

// Under a sample ratio mismatch a comparison that is significant by its
// p-value is neither significant nor a win: 2000/2000 users against a
// configured 40/60 split (chi-square 166.7, p ~ 4e-38), 200 against 300
// conversions (p < 1e-5).
func TestAnalyze_SRMVerdict(t *testing.T) {
	in := stats.Input{Groups: []stats.GroupInput{binaryGroup("control", 0.4, 2000, 200), binaryGroup("treatment", 0.6, 2000, 300)}}
	r := MustAnalyze(t, in)
	c := r.Comparisons[0]
	if !r.SRM.Mismatch || c.Significant || !c.Unreliable || !strings.HasPrefix(c.Verdict, "unreliable: sample ratio mismatch; treatment vs control: +5.0 pp") ||
		strings.Contains(c.Verdict, "beats") {
		t.Fatalf("SRM %+v comparison %+v", r.SRM, c)
	}
	// The same counts against 50/50: a win.
	in.Groups[0].Probability, in.Groups[1].Probability = 0.5, 0.5
	c = MustAnalyze(t, in).Comparisons[0]
	if !c.Significant || c.Unreliable || !strings.HasPrefix(c.Verdict, "treatment beats control") {
		t.Fatalf("comparison %+v", c)
	}
}

// The detectable effect at the current n is the plan's reverse at the
// observed sizes: 1500/1500 users at an 11% control rate detect
// 0.144052571146981946721002349807 - 0.11 (testdata/power_reference.py).
func TestAnalyze_DetectableEffect(t *testing.T) {
	r := MustAnalyze(t, stats.Input{Groups: []stats.GroupInput{binaryGroup("control", 0.5, 1500, 165), binaryGroup("treatment", 0.5, 1500, 180)}})
	approx(t, "DetectableEffect", r.Comparisons[0].DetectableEffect, 0.144052571146981946721002349807-0.11, 1e-9)
	if r.DetectablePower != 0.8 {
		t.Fatalf("DetectablePower=%v", r.DetectablePower)
	}
}
