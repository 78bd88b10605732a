package results

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day is 24 hours: an outcome window counts in days (7d), not calendar
// days, so that it is the same length for every user whatever the zone.
const Day = 24 * time.Hour

// ParseDuration reads a window or lookback: a number of days ("7d",
// "1.5d"), a Go duration ("36h", "90m"), or both ("1d12h").
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	var d time.Duration
	if i := strings.IndexByte(in, 'd'); i >= 0 {
		days, err := strconv.ParseFloat(in[:i], 64)
		if err != nil || days < 0 || days > 36500 {
			return 0, fmt.Errorf("want a duration such as 7d, 36h or 1d12h, got %q", s)
		}
		d, in = time.Duration(days*float64(Day)), in[i+1:]
	}
	if in != "" {
		rest, err := time.ParseDuration(in)
		if err != nil || rest < 0 {
			return 0, fmt.Errorf("want a duration such as 7d, 36h or 1d12h, got %q", s)
		}
		d += rest
	}
	if d <= 0 {
		return 0, fmt.Errorf("want a positive duration such as 7d, 36h or 1d12h, got %q", s)
	}
	return d, nil
}

// FormatDuration prints d as ParseDuration reads it: "7d", "1d12h0m0s",
// "36m0s".
func FormatDuration(d time.Duration) string {
	days := d / Day
	rest := d % Day
	switch {
	case days == 0:
		return rest.String()
	case rest == 0:
		return strconv.FormatInt(int64(days), 10) + "d"
	}
	return strconv.FormatInt(int64(days), 10) + "d" + rest.String()
}
