package stats

import "math"

// SkewnessLimit bounds |DifferenceSkewness| for the t-based intervals and
// p-values of a difference of means to be trusted: the two-sample form of
// Cochran's rule n > 25·G1² (Boos and Hughes-Oliver, "How large does n
// have to be for Z and t intervals?", The American Statistician, 2000),
// which is |skewness of the mean| < 0.2.
const SkewnessLimit = 0.2

// DifferenceSkewness returns the skewness of the estimated difference of
// means m2 - m1 from each group's summary and third central moment m3 (the
// population form, avg((y - mean)³), as SQL computes it):
//
//	(k3₂/n2² - k3₁/n1²) / (s1²/n1 + s2²/n2)^(3/2),  k3 = n²·m3 / ((n-1)(n-2)),
//
// k3 the unbiased third cumulant. Its Edgeworth term is what makes a t
// interval miss on one side: where a few very large values carry the mean
// (revenue), |skewness| > SkewnessLimit and the interval can cover much
// less than its level. Between two groups of the same distribution it
// cancels, which is why A/A tests look fine on such data. NaN when a group
// has fewer than 3 users or there is no variance.
func DifferenceSkewness(control, treatment Summary, m3Control, m3Treatment float64) float64 {
	if control.N < 3 || treatment.N < 3 {
		return math.NaN()
	}
	// k3/n², the third cumulant of the group's mean.
	k3 := func(s Summary, m3 float64) float64 {
		n := float64(s.N)
		return m3 / ((n - 1) * (n - 2))
	}
	v := control.Variance()/float64(control.N) + treatment.Variance()/float64(treatment.N)
	if !(v > 0) {
		return math.NaN()
	}
	return (k3(treatment, m3Treatment) - k3(control, m3Control)) / math.Pow(v, 1.5)
}
