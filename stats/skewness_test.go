package stats_test

import (
	"math"
	"testing"

	"github.com/assign-dev/assign/stats"
)

// The skewness of a difference of means, from its definition: for the
// samples below, computed by hand (central moments of each group, the
// unbiased cumulant k3 = n²m3/((n-1)(n-2)), the variance of the mean s²/n).
func TestDifferenceSkewness(t *testing.T) {
	// Control 1, 2, 3, 4, 10: mean 4, deviations -3 -2 -1 0 6,
	// m2 = 50/5 = 10 (s² = 12.5), m3 = (-27 - 8 - 1 + 0 + 216)/5 = 36,
	// k3 = 25·36/(4·3) = 75, k3/n² = 3.
	// Treatment 1, 2, 3, 4, 5, 6: symmetric, m3 = 0, s² = 3.5.
	c := stats.Summarize([]float64{1, 2, 3, 4, 10})
	tr := stats.Summarize([]float64{1, 2, 3, 4, 5, 6})
	v := 12.5/5 + 3.5/6
	want := (0 - 3.0) / math.Pow(v, 1.5)
	approx(t, "skewness", stats.DifferenceSkewness(c, tr, 36, 0), want, 1e-12)
	approx(t, "flipped", stats.DifferenceSkewness(tr, c, 0, 36), -want, 1e-12)
	isNaN(t, "two users", stats.DifferenceSkewness(stats.Summarize([]float64{1, 2}), tr, 0, 0))
	isNaN(t, "no variance", stats.DifferenceSkewness(stats.Summarize([]float64{1, 1, 1}), stats.Summarize([]float64{2, 2, 2}), 0, 0))
}
