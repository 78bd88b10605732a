package stats

import "math"

// Summary holds the sufficient statistics of a numeric outcome in one group:
// the count, the mean and M2, the sum of squared deviations from the mean.
// Keeping the mean and M2 rather than the raw sum of squares avoids the
// catastrophic cancellation of sumSq - sum²/n when the mean is large compared
// with the spread (revenue in cents, durations in milliseconds).
type Summary struct {
	N    int64   `json:"n"`
	Mean float64 `json:"mean"`
	M2   float64 `json:"m2"`
}

// Summarize computes a Summary from samples with Welford's one-pass update,
// which is numerically stable.
func Summarize(xs []float64) Summary {
	var s Summary
	for _, x := range xs {
		s.N++
		d := x - s.Mean
		s.Mean += d / float64(s.N)
		s.M2 += d * (x - s.Mean)
	}
	return s
}

// SummaryFromSums builds a Summary from the aggregates a warehouse computes
// cheaply: count(*), sum(value), sum(value*value). The subtraction loses
// about log10(mean²/variance) significant digits; when that matters, prefer
// SummaryFromMoments with the database's avg() and var_samp(), which
// PostgreSQL and DuckDB compute stably. A tiny negative M2 left by rounding is
// clamped to zero.
func SummaryFromSums(n int64, sum, sumSq float64) Summary {
	if n <= 0 {
		return Summary{N: n}
	}
	mean := sum / float64(n)
	m2 := sumSq - sum*mean
	if m2 < 0 {
		m2 = 0
	}
	return Summary{N: n, Mean: mean, M2: m2}
}

// SummaryFromMoments builds a Summary from a count, a mean and a sample
// variance (denominator n-1), as SQL's avg() and var_samp() return them. The
// variance is ignored when n < 2 (SQL returns NULL there).
func SummaryFromMoments(n int64, mean, variance float64) Summary {
	s := Summary{N: n, Mean: mean}
	if n >= 2 {
		s.M2 = variance * float64(n-1)
	}
	return s
}

// Merge combines the summaries of two disjoint sets of samples (Chan, Golub
// and LeVeque's pairwise update), so that partial aggregates can be added up
// without going back to the samples.
func (s Summary) Merge(o Summary) Summary {
	if s.N == 0 {
		return o
	} else if o.N == 0 {
		return s
	}
	n := s.N + o.N
	d := o.Mean - s.Mean
	return Summary{
		N:    n,
		Mean: s.Mean + d*float64(o.N)/float64(n),
		M2:   s.M2 + o.M2 + d*d*float64(s.N)*float64(o.N)/float64(n),
	}
}

// Variance returns the sample variance (denominator n-1), NaN when n < 2.
func (s Summary) Variance() float64 {
	if s.N < 2 {
		return math.NaN()
	}
	return s.M2 / float64(s.N-1)
}

// SD returns the sample standard deviation, NaN when n < 2.
func (s Summary) SD() float64 { return math.Sqrt(s.Variance()) }

// valid reports whether the summary could come from real samples.
func (s Summary) valid() bool {
	return s.N >= 0 && !math.IsNaN(s.Mean) && !math.IsInf(s.Mean, 0) &&
		!math.IsNaN(s.M2) && !math.IsInf(s.M2, 0) && s.M2 >= 0 &&
		(s.N > 0 || (s.Mean == 0 && s.M2 == 0))
}
