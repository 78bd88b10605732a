package stats_test

import (
	"math"
	"testing"

	"github.com/assign-dev/assign/stats"
)

func TestSummarize(t *testing.T) {
	// mean(sleep$extra[1:10]) = 0.75, sd = 1.789010 (R); more digits from
	// mpmath: sqrt(sum((x-0.75)^2)/9) = 1.7890096577591624.
	t.Run("Sleep", func(t *testing.T) {
		s := stats.Summarize(sleep1)
		if got, want := s.N, int64(10); got != want {
			t.Fatalf("N=%d, want %d", got, want)
		}
		approx(t, "Mean", s.Mean, 0.75, 1e-15)
		approx(t, "SD", s.SD(), 1.7890096577591624, 1e-14)
	})

	// Published: Wikipedia, "Algorithms for calculating variance", example:
	// the sample (10^9+4, 10^9+7, 10^9+13, 10^9+16) has variance 30, where the
	// naive sum-of-squares formula in double precision gives -170.67.
	t.Run("LargeOffset", func(t *testing.T) {
		xs := []float64{1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16}
		s := stats.Summarize(xs)
		approx(t, "Mean", s.Mean, 1e9+10, 0)
		approx(t, "Variance", s.Variance(), 30, 1e-9)
		// The sums form loses the variance here, but never goes negative.
		var sum, sumSq float64
		for _, x := range xs {
			sum, sumSq = sum+x, sumSq+x*x
		}
		if v := stats.SummaryFromSums(4, sum, sumSq).Variance(); v < 0 {
			t.Fatalf("SummaryFromSums variance=%v, want >= 0 (clamped)", v)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		s := stats.Summarize(nil)
		if s != (stats.Summary{}) {
			t.Fatalf("Summarize(nil)=%+v, want zero", s)
		}
		isNaN(t, "Variance", s.Variance())
		isNaN(t, "SD(n=1)", stats.Summarize([]float64{3}).SD())
	})
}

func TestSummaryFromSums(t *testing.T) {
	// 1:10: n=10, sum=55, sum of squares=385; mean 5.5, variance 55/6.
	s := stats.SummaryFromSums(10, 55, 385)
	approx(t, "Mean", s.Mean, 5.5, 0)
	approx(t, "Variance", s.Variance(), 55.0/6, 1e-12)
	if got := stats.SummaryFromSums(0, 0, 0); got != (stats.Summary{}) {
		t.Fatalf("SummaryFromSums(0)=%+v, want zero", got)
	}
}

func TestSummaryFromMoments(t *testing.T) {
	s := stats.SummaryFromMoments(10, 5.5, 55.0/6)
	want := stats.Summarize(seq(1, 10))
	approx(t, "Mean", s.Mean, want.Mean, 0)
	approx(t, "M2", s.M2, want.M2, 1e-12)
	// SQL's var_samp is NULL for one row; the variance is ignored there.
	if got := stats.SummaryFromMoments(1, 4, math.NaN()); got.M2 != 0 {
		t.Fatalf("M2=%v for n=1, want 0", got.M2)
	}
}

func TestSummary_Merge(t *testing.T) {
	all := stats.Summarize(append(append([]float64{}, sleep1...), sleep2...))
	got := stats.Summarize(sleep1).Merge(stats.Summarize(sleep2))
	if got.N != all.N {
		t.Fatalf("N=%d, want %d", got.N, all.N)
	}
	approx(t, "Mean", got.Mean, all.Mean, 1e-14)
	approx(t, "M2", got.M2, all.M2, 1e-12)
	if got := (stats.Summary{}).Merge(all); got != all {
		t.Fatalf("empty.Merge=%+v, want %+v", got, all)
	}
}
