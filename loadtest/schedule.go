package loadtest

import (
	"math"
	"time"
)

// Schedule is the open-loop plan: request i is meant to leave at
// Start + i/Rate, whatever happened to the requests before it. Latency is
// measured from that intended time, so when the target stalls, the requests
// that should have been sent meanwhile are charged for the wait instead of
// silently not being sent (coordinated omission).
type Schedule struct {
	Start time.Time
	Rate  float64 // requests per second, > 0
}

// At returns the intended send time of request i (from 0).
func (s Schedule) At(i int64) time.Time {
	return s.Start.Add(time.Duration(float64(i) * 1e9 / s.Rate))
}

// Count returns how many requests are meant to leave in [Start, Start+d):
// the i with At(i) < Start+d.
func (s Schedule) Count(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	n := int64(math.Ceil(d.Seconds() * s.Rate))
	// Correct for rounding at the edge, so Count agrees with At exactly.
	for n > 0 && !s.At(n-1).Before(s.Start.Add(d)) {
		n--
	}
	for s.At(n).Before(s.Start.Add(d)) {
		n++
	}
	return n
}
