package stats

import (
	"fmt"
	"math"
	"strconv"
)

// Binary holds the counts of a 0/1 outcome in one group.
type Binary struct {
	N           int64 `json:"n"`
	Conversions int64 `json:"conversions"`
}

// Rate returns Conversions/N, NaN for an empty group.
func (b Binary) Rate() float64 {
	if b.N == 0 {
		return math.NaN()
	}
	return float64(b.Conversions) / float64(b.N)
}

// valid reports whether the counts are possible.
func (b Binary) valid() bool {
	return b.N >= 0 && b.Conversions >= 0 && b.Conversions <= b.N
}

// CompareBinary compares the conversion rate of treatment with that of
// control at the given confidence level (e.g. 0.95):
//
//   - Difference p2 - p1 with a Wald interval on the unpooled standard error,
//     as R's prop.test(c(x2, x1), c(n2, n1), correct = FALSE).
//   - Two-sided two-proportion z-test on the pooled standard error, when
//     every expected cell count of the 2×2 table is at least 5 (Cochran's
//     rule); otherwise the normal approximation is not valid and the p-value
//     is Fisher's exact test (FisherExact, as R's fisher.test), Test says so,
//     Statistic is undefined and Note gives the smallest expected count. That
//     covers nobody (or everybody) converting in both groups: p = 1.
//   - Relative lift p2/p1 - 1 with the Katz log risk-ratio interval, undefined
//     when either group has no conversion.
//
// Names, AdjustedPValue, Significant and Verdict are left for Analyze to fill.
func CompareBinary(control, treatment Binary, level float64) Comparison {
	if control.N == 0 || treatment.N == 0 {
		return undefinedComparison(TestTwoProportionZ, "a group has no users")
	}
	n1, x1 := float64(control.N), float64(control.Conversions)
	n2, x2 := float64(treatment.N), float64(treatment.Conversions)
	p1, p2 := x1/n1, x2/n2
	q := normalQuantile(level)

	c := Comparison{Test: TestTwoProportionZ, DF: NaN()}
	c.Difference = Float(p2 - p1)
	se := math.Sqrt(p1*(1-p1)/n1 + p2*(1-p2)/n2)
	c.StdErr = Float(se)
	c.DifferenceCI = Interval{Lower: Float(p2 - p1 - q*se), Upper: Float(p2 - p1 + q*se)}
	if se == 0 {
		c.Note = "rates of 0 or 1 in both groups: the Wald interval has zero width"
	}

	pooled := (x1 + x2) / (n1 + n2)
	if e := minExpectedCell(control, treatment); e < minExpectedCount {
		// The normal approximation does not hold: the exact test instead.
		c.Test = TestFisherExact
		c.Statistic = NaN()
		c.PValue = Float(FisherExact(control.Conversions, control.N, treatment.Conversions, treatment.N))
		c.Note = fmt.Sprintf("an expected cell count is %s (below %d): Fisher's exact test instead of the z-test; the intervals are still the normal approximation",
			strconv.FormatFloat(e, 'g', 3, 64), minExpectedCount)
	} else {
		sp := math.Sqrt(pooled * (1 - pooled) * (1/n1 + 1/n2))
		z := (p2 - p1) / sp
		c.Statistic, c.PValue = Float(z), Float(normalTwoSided(z))
	}
	c.AdjustedPValue = c.PValue

	c.RelativeLift, c.RelativeLiftCI = NaN(), undefinedInterval()
	if x1 > 0 {
		c.RelativeLift = Float(p2/p1 - 1)
		if x2 > 0 {
			// 1/x - 1/n = (1-p)/x, the delta-method variance of log(p).
			v := math.Max(0, 1/x2-1/n2+1/x1-1/n1)
			c.RelativeLiftCI = logRatioInterval(p2/p1, math.Sqrt(v), q)
		}
	}
	return c
}
