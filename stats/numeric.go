package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// CompareNumeric compares the mean of treatment with that of control at the
// given confidence level (e.g. 0.95) with Welch's unequal-variance t-test:
//
//   - Difference m2 - m1, standard error sqrt(s1²/n1 + s2²/n2), the
//     Welch–Satterthwaite degrees of freedom, the two-sided p-value and the
//     interval diff ± t(df)·se, as R's t.test(y2, y1, var.equal = FALSE).
//   - Relative lift m2/m1 - 1 with a delta-method interval on log(m2/m1),
//     se = sqrt(s1²/(n1 m1²) + s2²/(n2 m2²)) and the normal quantile; the
//     lift needs a positive control mean, its interval both means positive.
//
// Each group needs n >= 2 and the two together some variance; otherwise the
// test and the intervals are NaN and Note says why.
func CompareNumeric(control, treatment Summary, level float64) Comparison {
	if control.N == 0 || treatment.N == 0 {
		return undefinedComparison(TestWelchT, "a group has no users")
	}
	m1, m2 := control.Mean, treatment.Mean
	c := undefinedComparison(TestWelchT, "")
	c.Difference = Float(m2 - m1)
	// Against a negative baseline the ratio's sign misleads (a better
	// treatment would show a negative lift), so the lift needs m1 > 0.
	if m1 > 0 {
		c.RelativeLift = Float(m2/m1 - 1)
	}
	if control.N < 2 || treatment.N < 2 {
		c.Note = "a group has fewer than 2 users: no variance estimate"
		return c
	}
	n1, n2 := float64(control.N), float64(treatment.N)
	v1, v2 := control.Variance()/n1, treatment.Variance()/n2
	se := math.Sqrt(v1 + v2)
	if se == 0 {
		c.Note = "no variance in either group: the t-test is undefined"
		return c
	}
	df := (v1 + v2) * (v1 + v2) / (v1*v1/(n1-1) + v2*v2/(n2-1))
	t := (m2 - m1) / se
	dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
	q := dist.Quantile(1 - (1-level)/2)

	c.StdErr = Float(se)
	c.DF = Float(df)
	c.Statistic = Float(t)
	c.PValue = Float(2 * dist.Survival(math.Abs(t)))
	c.AdjustedPValue = c.PValue
	c.DifferenceCI = Interval{Lower: Float(m2 - m1 - q*se), Upper: Float(m2 - m1 + q*se)}
	if m1 > 0 && m2 > 0 {
		sl := math.Sqrt(v1/(m1*m1) + v2/(m2*m2))
		c.RelativeLiftCI = logRatioInterval(m2/m1, sl, normalQuantile(level))
	} else {
		c.Note = "the relative lift interval needs positive means in both groups"
	}
	return c
}
