package loadtest

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Precision of the Histogram: values are kept in buckets whose width is at
// most 1/2^(histSubBits-1) of their value, so every percentile is within
// 0.1% of the true one (three significant digits, as HdrHistogram's default).
const (
	histSubBits  = 11
	histSubCount = 1 << histSubBits // exact values below this
	histHalf     = histSubCount / 2
	histMaxShift = 40 - histSubBits + 1 // values up to 2^40 ns (18 minutes)
	histBuckets  = (histMaxShift + 1) * histHalf
	histMaxValue = int64(1)<<40 - 1
)

// Histogram is a log-linear histogram of durations in nanoseconds, in the
// manner of HdrHistogram: linear sub-buckets inside each power of two, so the
// relative error is bounded (0.1%) at any scale. It is safe for concurrent
// use: Record is a few atomic adds, so all workers can share one histogram
// and a progress line can read it while the run goes on.
type Histogram struct {
	counts [histBuckets]atomic.Int64
	total  atomic.Int64
	sum    atomic.Int64
	max    atomic.Int64
	min    atomic.Int64 // stored as min+1 so that zero means "none yet"
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{} }

// histIndex returns the bucket of a value in [0, histMaxValue].
func histIndex(v int64) int {
	if v < histSubCount {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - histSubBits
	return shift*histHalf + int(v>>shift)
}

// histHighest returns the largest value that falls in bucket i.
func histHighest(i int) int64 {
	if i < histSubCount {
		return int64(i)
	}
	shift := i/histHalf - 1
	sub := int64(i - shift*histHalf)
	return (sub+1)<<shift - 1
}

// Record adds one duration. Negative durations count as zero, durations
// beyond 18 minutes as 18 minutes (the exact maximum is still kept).
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
	for {
		m := h.min.Load()
		if (m != 0 && v+1 >= m) || h.min.CompareAndSwap(m, v+1) {
			break
		}
	}
	h.sum.Add(v)
	if v > histMaxValue {
		v = histMaxValue
	}
	h.counts[histIndex(v)].Add(1)
	h.total.Add(1)
}

// Count returns the number of recorded values.
func (h *Histogram) Count() int64 { return h.total.Load() }

// Max returns the largest recorded value, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Min returns the smallest recorded value, exactly (0 when empty).
func (h *Histogram) Min() time.Duration {
	if m := h.min.Load(); m > 0 {
		return time.Duration(m - 1)
	}
	return 0
}

// Mean returns the arithmetic mean of the recorded values.
func (h *Histogram) Mean() time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns the value below or at which a fraction q of the recorded
// values fall: the highest value of the bucket holding the ceil(q*count)-th
// smallest value, capped at the exact maximum. Quantile(1) is Max.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	q = math.Max(0, math.Min(1, q))
	rank := int64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	max := h.max.Load()
	var seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(min(histHighest(i), max))
		}
	}
	return time.Duration(max)
}

// Merge adds every value of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.total.Add(o.total.Load())
	h.sum.Add(o.sum.Load())
	if m := o.max.Load(); m > h.max.Load() {
		h.max.Store(m)
	}
	if m := o.min.Load(); m != 0 && (h.min.Load() == 0 || m < h.min.Load()) {
		h.min.Store(m)
	}
}

// Summary returns the usual percentiles of the histogram.
func (h *Histogram) Summary() LatencySummary {
	return LatencySummary{
		Count: h.Count(),
		Mean:  ms(h.Mean()),
		Min:   ms(h.Min()),
		P50:   ms(h.Quantile(0.50)),
		P90:   ms(h.Quantile(0.90)),
		P99:   ms(h.Quantile(0.99)),
		P999:  ms(h.Quantile(0.999)),
		Max:   ms(h.Max()),
	}
}

// LatencySummary is a histogram's percentiles in milliseconds.
type LatencySummary struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_ms"`
	Min   float64 `json:"min_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
}

// ms converts a duration to milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}
