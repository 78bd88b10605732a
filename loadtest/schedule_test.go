package loadtest_test

import (
	"testing"
	"time"

	"github.com/assign-dev/assign/loadtest"
)

func TestSchedule_At(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := loadtest.Schedule{Start: start, Rate: 1000}
	for _, tc := range []struct {
		i    int64
		want time.Duration
	}{{0, 0}, {1, time.Millisecond}, {999, 999 * time.Millisecond}, {1000, time.Second}, {3_600_000, time.Hour}} {
		if got := s.At(tc.i).Sub(start); got != tc.want {
			t.Errorf("At(%d)=start+%v, want start+%v", tc.i, got, tc.want)
		}
	}

	// Intended times are evenly spaced whatever the rate, and independent of
	// when requests actually leave.
	s = loadtest.Schedule{Start: start, Rate: 3}
	for i := int64(1); i < 100; i++ {
		gap := s.At(i).Sub(s.At(i - 1))
		if gap < 333333332 || gap > 333333334 {
			t.Fatalf("gap %d=%v, want 1/3 s", i, gap)
		}
	}
}

func TestSchedule_Count(t *testing.T) {
	start := time.Unix(0, 0)
	for _, tc := range []struct {
		rate float64
		d    time.Duration
		want int64
	}{
		{1000, time.Second, 1000},
		{1000, time.Second + time.Nanosecond, 1001},
		{3, time.Second, 3},
		{0.5, 10 * time.Second, 5},
		{7, 0, 0},
	} {
		s := loadtest.Schedule{Start: start, Rate: tc.rate}
		got := s.Count(tc.d)
		if got != tc.want {
			t.Errorf("rate %g: Count(%v)=%d, want %d", tc.rate, tc.d, got, tc.want)
		}
		// Count agrees with At: the last counted is before the end, the next is not.
		end := start.Add(tc.d)
		if got > 0 && !s.At(got-1).Before(end) || s.At(got).Before(end) {
			t.Errorf("rate %g: Count(%v)=%d disagrees with At", tc.rate, tc.d, got)
		}
	}
}
