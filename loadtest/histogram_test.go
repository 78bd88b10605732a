package loadtest_test

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/assign-dev/assign/loadtest"
)

// within reports whether got is within the histogram's precision (0.1%,
// plus one unit for the smallest values) of want.
func within(got, want time.Duration) bool {
	return math.Abs(float64(got-want)) <= float64(want)/1000+1
}

func TestHistogram_Uniform(t *testing.T) {
	// 1µs, 2µs, ... 100ms: the q-quantile is exactly q * 100ms.
	h := loadtest.NewHistogram()
	const n = 100_000
	for i := 1; i <= n; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	if got, want := h.Count(), int64(n); got != want {
		t.Fatalf("Count=%d, want %d", got, want)
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 0.0001} {
		want := time.Duration(math.Ceil(q*n)) * time.Microsecond
		if got := h.Quantile(q); !within(got, want) {
			t.Errorf("Quantile(%g)=%v, want %v within 0.1%%", q, got, want)
		}
	}
	if got, want := h.Max(), 100*time.Millisecond; got != want {
		t.Errorf("Max=%v, want %v", got, want)
	}
	if got, want := h.Quantile(1), 100*time.Millisecond; got != want {
		t.Errorf("Quantile(1)=%v, want %v", got, want)
	}
	if got, want := h.Min(), time.Microsecond; got != want {
		t.Errorf("Min=%v, want %v", got, want)
	}
	if got, want := h.Mean(), 50000500*time.Nanosecond; got != want {
		t.Errorf("Mean=%v, want %v", got, want)
	}
}

func TestHistogram_Exponential(t *testing.T) {
	// A long-tailed distribution over six orders of magnitude, compared with
	// the exact order statistics of the same sample.
	r := rand.New(rand.NewPCG(1, 2))
	h := loadtest.NewHistogram()
	vals := make([]time.Duration, 200_000)
	for i := range vals {
		vals[i] = time.Duration(r.ExpFloat64() * float64(2*time.Millisecond))
		h.Record(vals[i])
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := vals[int(math.Ceil(q*float64(len(vals))))-1]
		if got := h.Quantile(q); !within(got, want) {
			t.Errorf("Quantile(%g)=%v, want %v within 0.1%%", q, got, want)
		}
	}
	if got, want := h.Max(), vals[len(vals)-1]; got != want {
		t.Errorf("Max=%v, want %v", got, want)
	}
}

func TestHistogram_Extremes(t *testing.T) {
	h := loadtest.NewHistogram()
	if got := h.Quantile(0.99); got != 0 {
		t.Fatalf("empty Quantile=%v, want 0", got)
	}
	h.Record(-5)        // clamped to zero
	h.Record(0)         // exact
	h.Record(2047)      // last exact value
	h.Record(time.Hour) // beyond the range: the bucket saturates, Max stays exact
	if got, want := h.Quantile(0.5), time.Duration(0); got != want {
		t.Errorf("Quantile(0.5)=%v, want %v", got, want)
	}
	if got, want := h.Quantile(0.75), time.Duration(2047); got != want {
		t.Errorf("Quantile(0.75)=%v, want %v", got, want)
	}
	if got, want := h.Max(), time.Hour; got != want {
		t.Errorf("Max=%v, want %v", got, want)
	}
	if got := h.Quantile(1); got < 18*time.Minute {
		t.Errorf("Quantile(1)=%v, want the saturated top bucket", got)
	}
}

func TestHistogram_Merge(t *testing.T) {
	a, b := loadtest.NewHistogram(), loadtest.NewHistogram()
	for i := 1; i <= 1000; i++ {
		a.Record(time.Duration(i) * time.Millisecond)
		b.Record(time.Duration(i+1000) * time.Millisecond)
	}
	a.Merge(b)
	if got, want := a.Count(), int64(2000); got != want {
		t.Fatalf("Count=%d, want %d", got, want)
	}
	if got, want := a.Quantile(0.5), 1000*time.Millisecond; !within(got, want) {
		t.Errorf("Quantile(0.5)=%v, want %v", got, want)
	}
	if got, want := a.Max(), 2000*time.Millisecond; got != want {
		t.Errorf("Max=%v, want %v", got, want)
	}
	if got, want := a.Min(), time.Millisecond; got != want {
		t.Errorf("Min=%v, want %v", got, want)
	}
}

func TestHistogram_Summary(t *testing.T) {
	h := loadtest.NewHistogram()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	s := h.Summary()
	if s.Count != 1000 || math.Abs(s.P99-990) > 1 || math.Abs(s.P50-500) > 0.5 || s.Max != 1000 {
		t.Fatalf("Summary=%+v, want count 1000, p50 500ms, p99 990ms, max 1000ms", s)
	}
}

func BenchmarkHistogram_Record(b *testing.B) {
	h := loadtest.NewHistogram()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i&0xfffff) * time.Microsecond)
	}
}
