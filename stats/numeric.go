package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// NoteRatioUnbounded is the Note of a numeric comparison whose relative lift
// has no confidence interval because the control mean is not
// distinguishable from 0 at the comparison's level: Fieller's confidence set
// for the ratio is then the whole line or two rays, so no finite interval
// for the lift holds its coverage.
const NoteRatioUnbounded = "the relative lift interval is undefined: the control mean is not distinguishable from 0 at this confidence level, so the ratio of the means cannot be estimated (Fieller's set is unbounded)"

// CompareNumeric compares the mean of treatment with that of control at the
// given confidence level (e.g. 0.95) with Welch's unequal-variance t-test:
//
//   - Difference m2 - m1, standard error sqrt(s1²/n1 + s2²/n2), the
//     Welch–Satterthwaite degrees of freedom, the two-sided p-value and the
//     interval diff ± t(df)·se, as R's t.test(y2, y1, var.equal = FALSE).
//
//   - Relative lift m2/m1 - 1 (only for a positive control mean) with
//     Fieller's interval for the ratio of two independent means (Fieller,
//     "Some problems in interval estimation", JRSS B 16(2), 1954): the set
//     of theta with
//
//     (m2 - theta·m1)² <= q²·(v2 + theta²·v1),  v = s²/n,
//
//     q the Student t quantile with the Welch df above, so that theta = 1
//     is in the set exactly when Welch's test does not reject: the lift
//     interval [thetaL - 1, thetaU - 1] excludes 0 exactly when p < 1 -
//     level. When m1²/v1 <= q² the set is unbounded: the lift interval is
//     undefined and Note is NoteRatioUnbounded. (A delta-method interval on
//     log(m2/m1), used before, excluded 0 in 38% of A/A experiments on
//     revenue with 95% zeros and 200 users per group; see coverage_test.go.)
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
	if !(m1 > 0) {
		c.Note = "the relative lift needs a positive control mean"
	} else if lo, hi, ok := fiellerRatio(m1, v1, m2, v2, q); ok {
		c.RelativeLiftCI = Interval{Lower: Float(lo - 1), Upper: Float(hi - 1)}
	} else {
		c.Note = NoteRatioUnbounded
	}
	return c
}

// fiellerRatio returns Fieller's interval [lo, hi] for m2/m1 (independent
// estimates with variances v1, v2, quantile q): the roots of
//
//	(m1² - q²v1)·theta² - 2·m1·m2·theta + (m2² - q²v2) = 0,
//
// and ok = false when the leading coefficient is not positive (m1²/v1 <= q²),
// where the set is the whole line or two rays. The discriminant is written
// q²(v2·a + m2²·v1), which is positive whenever a > 0 and avoids the
// cancellation of b² - ac; the smaller root in magnitude comes from the
// product of the roots, c/a, for the same reason.
func fiellerRatio(m1, v1, m2, v2, q float64) (lo, hi float64, ok bool) {
	q2 := q * q
	a := m1*m1 - q2*v1
	if !(a > 0) {
		return math.NaN(), math.NaN(), false
	}
	b := m1 * m2
	c := m2*m2 - q2*v2
	sd := math.Sqrt(q2 * (v2*a + m2*m2*v1))
	// r1 = (b + sign(b)·sd)/a has no cancellation; r2 = c/(a·r1).
	s := b + math.Copysign(sd, b)
	if s == 0 { // b = 0 and sd = 0: m2 = 0 and v2 = 0, a single point
		return 0, 0, true
	}
	r1, r2 := s/a, c/s
	return math.Min(r1, r2), math.Max(r1, r2), true
}
