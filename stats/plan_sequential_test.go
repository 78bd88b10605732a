package stats_test

import (
	"math"
	"testing"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/stats"
)

// seqPlanRef is an independent computation of the sequential plan, from the
// mSPRT's definition (stats/sequential.go) and nothing of package stats: at a
// total N with the mixture tuned for N at alpha0, the comparison of the
// control (probability p0, rate or mean p1) with group j (pj) has n1 = N·p0
// and n2 = N·pj users; the test rejects at level alpha when |d| exceeds
//
//	w = sqrt(v (v+tau²)/tau² · (log((v+tau²)/v) - 2 log alpha)),
//	tau² = v·n·(l + log(l+1))/N,  n = n1 + n2,  l = -2 log alpha0,
//
// and its power at a true difference delta is Phi((delta - w)/sqrt(v)), v =
// p1q1/n1 + p2q2/n2 for rates, sd²(1/n1 + 1/n2) for means.
type seqPlanRef struct {
	p0, pj, alpha0, alpha float64
	binary                bool
	p1, sd                float64
}

func (r seqPlanRef) power(total, delta float64) float64 {
	n1, n2 := total*r.p0, total*r.pj
	var v float64
	if r.binary {
		p2 := r.p1 + delta
		v = r.p1*(1-r.p1)/n1 + p2*(1-p2)/n2
	} else {
		v = r.sd * r.sd * (1/n1 + 1/n2)
	}
	l := -2 * math.Log(r.alpha0)
	tau2 := v * (n1 + n2) * (l + math.Log(l+1)) / total
	w := math.Sqrt(v * (v + tau2) / tau2 * (math.Log((v+tau2)/v) - 2*math.Log(r.alpha)))
	return math.Erfc(-(delta-w)/math.Sqrt(v)/math.Sqrt2) / 2
}

// total finds the N where the power reaches 0.8, by bisection on N.
func (r seqPlanRef) total(delta float64) float64 {
	lo, hi := 1.0, 1e9
	for range 300 {
		mid := (lo + hi) / 2
		if r.power(mid, delta) < 0.8 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// effect finds the delta the sequential test detects at the cap N, by
// bisection on delta.
func (r seqPlanRef) effect(total float64) float64 {
	lo, hi := 0.0, 1-r.p1
	if !r.binary {
		hi = 100 * r.sd
	}
	for range 300 {
		mid := (lo + hi) / 2
		if r.power(total, mid) < 0.8 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// TestMakePlan_Sequential: the sequential plans against seqPlanRef, and the
// fixed-horizon plans they are compared with.
func TestMakePlan_Sequential(t *testing.T) {
	plan := func(t *testing.T, in stats.PlanInput) *stats.Plan {
		t.Helper()
		in.Method = stats.MethodSequential
		p, err := stats.MakePlan(in)
		if err != nil {
			t.Fatal(err)
		}
		in.Method = ""
		fixed, err := stats.MakePlan(in)
		if err != nil {
			t.Fatal(err)
		}
		s := p.Sequential
		if s == nil || fixed.Sequential != nil || s.Horizon != p.Total || s.FixedTotal != fixed.Total ||
			s.FixedExactTotal != fixed.ExactTotal || s.FixedEffect != fixed.Effect {
			t.Fatalf("sequential %+v against fixed %+v", s, fixed)
		}
		if p.Reverse {
			approx(t, "Ratio", s.Ratio, float64(p.Effect)/float64(fixed.Effect), 1e-12)
		} else {
			approx(t, "Ratio", s.Ratio, p.ExactTotal/fixed.ExactTotal, 1e-12)
		}
		return p
	}

	t.Run("README", func(t *testing.T) {
		// The README's cap: +3.5 pp on 10.5%, sampling 0.9; fixed 2,754.
		p := plan(t, stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.105, Effect: 0.035, SamplingProbability: 0.9})
		ref := seqPlanRef{p0: 0.5, pj: 0.5, alpha0: 0.05, alpha: 0.05, binary: true, p1: 0.105}
		n := ref.total(0.035)
		t.Logf("sequential total %.12f (fixed %.12f, ratio %.6f)", n, p.Sequential.FixedExactTotal, n/p.Sequential.FixedExactTotal)
		approx(t, "ExactTotal", p.ExactTotal, n, 1e-6)
		if p.Sequential.FixedTotal != 2754 || p.Method != stats.MethodPlanSequentialProportions {
			t.Fatalf("plan %+v", p)
		}
		// Each group rounded up, the cap twice that, before sampling / 0.9.
		users := int64(math.Ceil(n / 2))
		if p.Groups[0].Users != users || p.Total != 2*users || p.TotalBeforeSampling != int64(math.Ceil(float64(2*users)/0.9)) {
			t.Fatalf("plan %+v, want %d per group", p, users)
		}
		if r := ref.power(float64(p.Total), 0.035); r < 0.8 {
			t.Errorf("power %v at the rounded total", r)
		}
		// The boundary: the half-width in standard errors at the horizon.
		l := -2 * math.Log(0.05)
		c := l + math.Log(l+1)
		approx(t, "Boundary", p.Sequential.Boundary, math.Sqrt((1+1/c)*(math.Log(1+c)+l)), 1e-12)
	})
	t.Run("UnequalThreeGroups", func(t *testing.T) {
		// 20/40/40: two comparisons at 0.025 (the mixture tuned at 0.05),
		// each with n = 0.6·N of the horizon N.
		p := plan(t, stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.1, Effect: 0.02, Probabilities: []float64{0.2, 0.4, 0.4}})
		n := seqPlanRef{p0: 0.2, pj: 0.4, alpha0: 0.05, alpha: 0.025, binary: true, p1: 0.1}.total(0.02)
		approx(t, "ExactTotal", p.ExactTotal, n, 1e-6)
		u0, u1 := int64(math.Ceil(0.2*n)), int64(math.Ceil(0.4*n))
		want := max(int64(math.Ceil(float64(u0)/0.2)), int64(math.Ceil(float64(u1)/0.4)))
		if p.Groups[0].Users != u0 || p.Groups[2].Users != u1 || p.Total != want {
			t.Fatalf("plan %+v, want %d, %d, total %d", p, u0, u1, want)
		}
	})
	t.Run("NumericUnequal", func(t *testing.T) {
		p := plan(t, stats.PlanInput{Outcome: stats.OutcomeNumeric, Baseline: 6.5, SD: 20, Effect: 2, Probabilities: []float64{0.3, 0.7}})
		n := seqPlanRef{p0: 0.3, pj: 0.7, alpha0: 0.05, alpha: 0.05, sd: 20}.total(2)
		approx(t, "ExactTotal", p.ExactTotal, n, 1e-6)
		if p.Method != stats.MethodPlanSequentialMeans || !(p.Total >= int64(n)) {
			t.Fatalf("plan %+v", p)
		}
		// Alpha 0.1, power 0.9: the levels reach both the mixture and the test.
		in := stats.PlanInput{Outcome: stats.OutcomeNumeric, SD: 1, Effect: 0.3, Alpha: 0.1, Power: 0.9, Method: stats.MethodSequential}
		q, err := stats.MakePlan(in)
		if err != nil {
			t.Fatal(err)
		}
		ref := seqPlanRef{p0: 0.5, pj: 0.5, alpha0: 0.1, alpha: 0.1, sd: 1}
		lo, hi := 1.0, 1e9
		for range 300 {
			if mid := (lo + hi) / 2; ref.power(mid, 0.3) < 0.9 {
				lo = mid
			} else {
				hi = mid
			}
		}
		approx(t, "ExactTotal(alpha 0.1, power 0.9)", q.ExactTotal, (lo+hi)/2, 1e-6)
	})
	t.Run("Reverse", func(t *testing.T) {
		p := plan(t, stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.11, MaximumSampleSize: 3000, SamplingProbability: 0.9})
		d := seqPlanRef{p0: 0.5, pj: 0.5, alpha0: 0.05, alpha: 0.05, binary: true, p1: 0.11}.effect(3000)
		t.Logf("binary: detectable %.15f at 3000 (fixed %.15f)", d, float64(p.Sequential.FixedEffect))
		approx(t, "Effect", p.Effect, d, 1e-9)
		approx(t, "FixedEffect", p.Sequential.FixedEffect, 0.144052571146981946721002349807-0.11, 1e-9)
		if p.Total != 3000 || p.Sequential.Horizon != 3000 || p.Sequential.FixedTotal != 3000 {
			t.Fatalf("plan %+v", p)
		}
		// What results prints at that cap with those users: the same effect.
		r, err := stats.Analyze(stats.Input{Groups: []stats.GroupInput{
			{Name: "a", Probability: 0.5, Binary: &stats.Binary{N: 1500, Conversions: 165}},
			{Name: "b", Probability: 0.5, Binary: &stats.Binary{N: 1500, Conversions: 200}},
		}, Method: stats.MethodSequential, PlannedSampleSize: 3000})
		if err != nil {
			t.Fatal(err)
		}
		approx(t, "results' Sequential.DetectableEffect", r.Comparisons[0].Sequential.DetectableEffect, d, 1e-9)

		q := plan(t, stats.PlanInput{Outcome: stats.OutcomeNumeric, Baseline: 10, SD: 20, MaximumSampleSize: 3000, Probabilities: []float64{0.2, 0.8}})
		dm := seqPlanRef{p0: 0.2, pj: 0.8, alpha0: 0.05, alpha: 0.05, sd: 20}.effect(3000)
		t.Logf("numeric 20/80: detectable %.15f at 3000", dm)
		approx(t, "numeric Effect", q.Effect, dm, 1e-9)
		approx(t, "numeric FixedEffect", q.Sequential.FixedEffect, 2.55830531598126009602949435107, 1e-8)
	})
	t.Run("Invalid", func(t *testing.T) {
		_, err := stats.MakePlan(stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.1, Effect: 0.01, Method: "bayes"})
		if assign.ErrorCode(err) != assign.EINVALID || assign.ErrorField(err) != "method" {
			t.Errorf("method bayes: err=%v, want invalid \"method\"", err)
		}
		_, err = stats.MakePlan(stats.PlanInput{Outcome: stats.OutcomeBinary, Baseline: 0.95, Effect: 0.1, Method: stats.MethodSequential})
		if assign.ErrorField(err) != "effect" {
			t.Errorf("rate above 1: err=%v, want invalid \"effect\"", err)
		}
	})
}
