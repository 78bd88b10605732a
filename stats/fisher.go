package stats

import "math"

// TestFisherExact names Fisher's exact test in a Comparison.
const TestFisherExact = "Fisher's exact test"

// minExpectedCount is Cochran's rule: the normal approximation of the
// two-proportion z-test is trusted only when every expected cell count of
// the 2×2 table (under the pooled rate) is at least 5.
const minExpectedCount = 5

// minExpectedCell returns the smallest expected cell count of the 2×2 table
// (groups × converted or not) under the pooled rate: n_i·p̄ and n_i·(1-p̄).
func minExpectedCell(control, treatment Binary) float64 {
	n := float64(control.N + treatment.N)
	x := float64(control.Conversions + treatment.Conversions)
	small := math.Min(float64(control.N), float64(treatment.N))
	return small * math.Min(x, n-x) / n
}

// FisherExact returns the two-sided p-value of Fisher's exact test of the
// 2×2 table (x1 of n1 against x2 of n2), as R's fisher.test: conditional on
// the margins, the number of conversions in the first group is
// hypergeometric, and the p-value sums the probabilities of every table at
// most as likely as the observed one (with R's relative tolerance 1e-7 for
// ties). Probabilities are computed in logs (math.Lgamma), so large counts
// do not overflow.
func FisherExact(x1, n1, x2, n2 int64) float64 {
	if n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2 {
		return math.NaN()
	}
	m := x1 + x2 // conversions, the first margin
	lo, hi := max(0, m-n2), min(m, n1)
	logp := func(k int64) float64 {
		return lchoose(n1, k) + lchoose(n2, m-k) - lchoose(n1+n2, m)
	}
	obs := logp(x1)
	// Sum relative to the largest term to keep precision.
	top := math.Inf(-1)
	for k := lo; k <= hi; k++ {
		top = math.Max(top, logp(k))
	}
	var sum, total float64
	cut := obs + math.Log1p(1e-7)
	for k := lo; k <= hi; k++ {
		lp := logp(k)
		v := math.Exp(lp - top)
		total += v
		if lp <= cut {
			sum += v
		}
	}
	return math.Min(1, sum/total)
}

// lchoose returns log(n choose k).
func lchoose(n, k int64) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}
