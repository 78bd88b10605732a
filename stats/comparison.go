package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Names of the tests a Comparison reports.
const (
	TestTwoProportionZ = "two-proportion z-test"
	TestWelchT         = "Welch t-test"
)

// Comparison is one group against the control. Differences are group minus
// control: for a binary outcome in proportion units (0.031 is +3.1 percentage
// points), for a numeric outcome in the outcome's units. Undefined numbers are
// NaN (null in JSON) and Note says why.
type Comparison struct {
	Group   string `json:"group"`
	Control string `json:"control"`
	Test    string `json:"test"`

	Difference     Float    `json:"difference"`
	DifferenceCI   Interval `json:"difference_ci"`
	StdErr         Float    `json:"std_err"`       // of the difference, as used by the interval
	RelativeLift   Float    `json:"relative_lift"` // group / control - 1
	RelativeLiftCI Interval `json:"relative_lift_ci"`

	Statistic      Float `json:"statistic"`        // z or t
	DF             Float `json:"df"`               // Welch–Satterthwaite df; null for the z-test
	PValue         Float `json:"p_value"`          // raw, two-sided
	AdjustedPValue Float `json:"adjusted_p_value"` // Holm-adjusted; equals PValue for a single comparison

	// Significant is AdjustedPValue < 1 - confidence level, and never under
	// a sample ratio mismatch.
	Significant bool `json:"significant"`
	// Unreliable is true under a sample ratio mismatch: the verdict then
	// starts with "unreliable: sample ratio mismatch".
	Unreliable bool `json:"unreliable"`
	// DetectableEffect is the difference (upwards, in the units of
	// Difference) this comparison's users detect with Report.DetectablePower
	// at the comparison's level (1 - confidence, divided by the number of
	// comparisons), from the control's rate or the pooled sd: what the
	// experiment could see so far (see MakePlan for the formulas).
	DetectableEffect Float `json:"detectable_effect"`
	// Sequential is the always-valid inference of the same difference
	// (mSPRT); Significant rests on it when Report.Method is sequential.
	Sequential *Sequential `json:"sequential,omitempty"`
	// Skewness is the skewness of the estimated difference of a numeric
	// outcome (DifferenceSkewness), when the caller knows the groups' third
	// moments (package results does); null otherwise. Beyond SkewnessLimit
	// the t-based interval and p-value can be off.
	Skewness Float `json:"skewness"`
	// Verdict is a plain-language sentence for people.
	Verdict string `json:"verdict"`
	// Note explains undefined numbers (empty group, no variance), if any.
	Note string `json:"note,omitempty"`
}

// undefinedComparison is a comparison whose numbers cannot be computed.
func undefinedComparison(test, note string) Comparison {
	return Comparison{
		Test:           test,
		Difference:     NaN(),
		DifferenceCI:   undefinedInterval(),
		StdErr:         NaN(),
		RelativeLift:   NaN(),
		RelativeLiftCI: undefinedInterval(),
		Statistic:      NaN(),
		DF:             NaN(),
		PValue:         NaN(),
		AdjustedPValue: NaN(),
		Skewness:       NaN(),
		Note:           note,
	}
}

// normalQuantile returns z such that P(|Z| <= z) = level for a standard normal Z.
func normalQuantile(level float64) float64 {
	return distuv.UnitNormal.Quantile(1 - (1-level)/2)
}

// normalTwoSided returns the two-sided p-value of a standard normal statistic.
// Survival keeps precision in the far tail, where 1-CDF would round to 0.
func normalTwoSided(z float64) float64 {
	return 2 * distuv.UnitNormal.Survival(math.Abs(z))
}

// logRatioInterval returns exp(log(ratio) ± q·se) - 1: a delta-method interval
// on the log scale, mapped back to a relative lift.
func logRatioInterval(ratio, se, q float64) Interval {
	l := math.Log(ratio)
	return Interval{
		Lower: Float(math.Expm1(l - q*se)),
		Upper: Float(math.Expm1(l + q*se)),
	}
}
