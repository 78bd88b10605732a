package resultstest

import (
	"math"

	"github.com/assign-dev/assign/assign"
)

// Reference holds every number `assignctl results` prints for a fixture,
// with its tolerance and where it comes from.
type Reference struct {
	Fixture *Fixture
	Control string
	// Before counts, per group, the users who ordered only before enrolling.
	Before map[string]int

	Groups      []GroupRef
	Comparisons []ComparisonRef
	SRM         SRMRef
}

// GroupRef is one group's row. NaN means undefined (null in JSON).
type GroupRef struct {
	Name        string
	N           int64
	Conversions int64   // binary; -1 for numeric
	Rate        float64 // binary
	Mean, SD    float64 // numeric
}

// ComparisonRef is one comparison against the control; Tol bounds the
// difference to the published or derived value.
type ComparisonRef struct {
	Group                      string
	Difference, Lower, Upper   float64
	Lift, LiftLower, LiftUpper float64
	Statistic, DF              float64 // DF NaN for the z-test
	PValue, AdjustedPValue     float64
	Significant                bool
	Verdict                    string
	Tol                        float64
}

// SRMRef is the sample-ratio-mismatch check.
type SRMRef struct {
	ChiSquare, PValue float64
	DF                int
	Mismatch          bool
}

// chi2Survival returns P(X > x) for a chi-square with df 1 or 2 in closed
// form (erfc(sqrt(x/2)) and exp(-x/2)), independent of gonum.
func chi2Survival(x float64, df int) float64 {
	if df == 1 {
		return math.Erfc(math.Sqrt(x / 2))
	}
	return math.Exp(-x / 2)
}

// srm computes Pearson's chi-square by hand from counts and probabilities.
func srm(counts []int64, probs []float64) SRMRef {
	var total float64
	for _, n := range counts {
		total += float64(n)
	}
	chi := 0.0
	for i, n := range counts {
		e := total * probs[i]
		chi += (float64(n) - e) * (float64(n) - e) / e
	}
	df := len(counts) - 1
	p := chi2Survival(chi, df)
	return SRMRef{ChiSquare: chi, PValue: p, DF: df, Mismatch: p < 0.001}
}

// PropTest is R's prop.test without continuity correction, as published at
// influentialpoints.com/notes/n9rmf3.htm ("Two-sample test for independent
// proportions - using R"):
//
//	X-squared = 6.1026, df = 1, p-value = 0.01350
//	95 percent confidence interval: 0.03074072 0.23838896
//	sample estimates: prop 1 0.4392523  prop 2 0.3046875
//
// with the counts 94/214 and 39/128 (the only ones with n <= 500 that give
// every printed digit; see stats/binary_test.go). Here old_journey, the
// control, has 39/128. The digits beyond the published ones (lift, its
// interval, z) come from the mpmath script of stats/binary_test.go, which
// shares no code with gonum; the SRM numbers from the closed form above with
// probabilities 0.375/0.625 (expected 128.25/213.75, no mismatch).
func PropTest() *Reference {
	f, before := NewBinary("prop-test", []GroupSpec{
		{Name: "old_journey", Probability: 0.375, N: 128, Conversions: 39},
		{Name: "new_journey", Probability: 0.625, N: 214, Conversions: 94},
	})
	return &Reference{
		Fixture: f, Control: "old_journey", Before: before,
		Groups: []GroupRef{
			{Name: "old_journey", N: 128, Conversions: 39, Rate: 39.0 / 128, Mean: math.NaN(), SD: math.NaN()},
			{Name: "new_journey", N: 214, Conversions: 94, Rate: 94.0 / 214, Mean: math.NaN(), SD: math.NaN()},
		},
		Comparisons: []ComparisonRef{{
			Group:      "new_journey",
			Difference: 0.13456483644859813, Lower: 0.03074072, Upper: 0.23838896, // published CI, ±5e-9
			Lift: 0.44164869398514258, LiftLower: 0.06551414983621662, LiftUpper: 0.95056157366707599,
			Statistic: math.Sqrt(6.1026), DF: math.NaN(), // published X-squared = z²
			PValue: 0.01350, AdjustedPValue: 0.01350, // published, ±5e-6
			Significant: true,
			Verdict:     "new_journey beats old_journey: +13.5 pp (+44.2%), 95% CI +3.1 to +23.8 pp, p=0.013",
			Tol:         5e-6,
		}},
		SRM: srm([]int64{128, 214}, []float64{0.375, 0.625}),
	}
}

// Sleep is R's datasets::sleep (Cushny and Peebles, via Student 1908) with
// Welch's t-test, as printed by the example of R's ?t.test,
// t.test(extra ~ group, data = sleep):
//
//	t = -1.8608, df = 17.776, p-value = 0.07939
//	95 percent confidence interval: -3.3654832  0.2054832
//	mean in group 1 0.75   mean in group 2 2.33
//
// The control here is group 1, so the signs flip. The sd of group 2 and the
// lift come from the mpmath script of stats/numeric_test.go. The lift has no
// interval: the control mean (0.75, se 0.566) is not distinguishable from 0
// at t(17.78), so Fieller's set for the ratio is unbounded
// (stats.NoteRatioUnbounded).
func Sleep() *Reference {
	groups := []assign.Group{{Name: "g1", Probability: 0.5}, {Name: "g2", Probability: 0.5}}
	f := NewNumeric("sleep", groups, map[string][]float64{
		"g1": {0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0},
		"g2": {1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4},
	})
	return &Reference{
		Fixture: f, Control: "g1",
		Groups: []GroupRef{
			{Name: "g1", N: 10, Conversions: -1, Rate: math.NaN(), Mean: 0.75, SD: 1.7890096577591625},
			{Name: "g2", N: 10, Conversions: -1, Rate: math.NaN(), Mean: 2.33, SD: 2.002248735796829},
		},
		Comparisons: []ComparisonRef{{
			Group:      "g2",
			Difference: 1.58, Lower: -0.2054832, Upper: 3.3654832, // published, ±5e-8
			Lift: 2.1066666666666667, LiftLower: math.NaN(), LiftUpper: math.NaN(),
			Statistic: 1.8608, DF: 17.776, PValue: 0.07939, AdjustedPValue: 0.07939, // published, ±5e-5, ±5e-4, ±5e-6
			Verdict: "no significant difference between g2 and g1: +1.6 (+210.7%), 95% CI -0.21 to +3.4, p=0.079",
			Tol:     5e-4,
		}},
		SRM: srm([]int64{10, 10}, []float64{0.5, 0.5}),
	}
}

// Holm is three groups where both raw p-values are below 0.05 and neither
// is after Holm's correction, with a loud sample ratio mismatch (2000 users
// each against 40/30/30), so that both verdicts say the comparison is
// unreliable. p-values: the mpmath script of
// stats/binary_test.go (0.043244928043021673 and 0.038470103587528793);
// adjusted: Holm by hand, max(2·0.0384701…, 0.0432449…) for both; SRM:
// chi-square 400²/2400 + 2·200²/1800 = 111.1…, df 2, p = exp(-chi²/2).
// Intervals, lifts and z: Wald, log risk ratio and pooled z as in
// stats/doc.go, computed in double precision with Python's math.erfc and
// statistics.NormalDist (no gonum), e.g. for a:
//
//	p1, p2 = 200/2000, 240/2000; q = NormalDist().inv_cdf(0.975)
//	se = sqrt(p1(1-p1)/2000 + p2(1-p2)/2000); p2-p1 ∓ q·se
//	sl = sqrt(1/240 - 1/2000 + 1/200 - 1/2000); expm1(log(p2/p1) ∓ q·sl)
func Holm() *Reference {
	f, before := NewBinary("holm", []GroupSpec{
		{Name: "control", Probability: 0.4, N: 2000, Conversions: 200},
		{Name: "a", Probability: 0.3, N: 2000, Conversions: 240},
		{Name: "b", Probability: 0.3, N: 2000, Conversions: 241},
	})
	nan := math.NaN()
	adj := 2 * 0.038470103587528793
	return &Reference{
		Fixture: f, Control: "control", Before: before,
		Groups: []GroupRef{
			{Name: "control", N: 2000, Conversions: 200, Rate: 0.1, Mean: nan, SD: nan},
			{Name: "a", N: 2000, Conversions: 240, Rate: 0.12, Mean: nan, SD: nan},
			{Name: "b", N: 2000, Conversions: 241, Rate: 0.1205, Mean: nan, SD: nan},
		},
		Comparisons: []ComparisonRef{
			{Group: "a", Difference: 0.02, Lower: 0.0006171551968271252, Upper: 0.039382844803172855,
				Lift: 0.2, LiftLower: 0.0052139185410878565, LiftUpper: 0.4325309005768012,
				Statistic: 2.021336646531404, DF: nan, PValue: 0.043244928043021673, AdjustedPValue: adj, Tol: 1e-9,
				Verdict: "unreliable: sample ratio mismatch; a vs control: +2.0 pp (+20.0%), 95% CI +0.062 to +3.9 pp, p=0.043, Holm-adjusted p=0.077"},
			{Group: "b", Difference: 0.0205, Lower: 0.0010983487904388696, Upper: 0.039901651209561115,
				Lift: 0.205, LiftLower: 0.009591676066833785, LiftUpper: 0.4382299640749784,
				Statistic: 2.069810394613169, DF: nan, PValue: 0.038470103587528793, AdjustedPValue: adj, Tol: 1e-9,
				Verdict: "unreliable: sample ratio mismatch; b vs control: +2.0 pp (+20.5%), 95% CI +0.11 to +4.0 pp, p=0.038, Holm-adjusted p=0.077"},
		},
		SRM: srm([]int64{2000, 2000, 2000}, []float64{0.4, 0.3, 0.3}),
	}
}
