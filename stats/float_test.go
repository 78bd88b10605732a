package stats_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/assign-dev/assign/stats"
)

func TestFloat_JSON(t *testing.T) {
	for _, tc := range []struct {
		in   stats.Float
		want string
	}{
		{0.1, "0.1"}, {0, "0"}, {-2.5e-7, "-2.5e-07"},
		{stats.NaN(), "null"}, {stats.Float(math.Inf(1)), "null"}, {stats.Float(math.Inf(-1)), "null"},
	} {
		b, err := json.Marshal(tc.in)
		if err != nil {
			t.Fatal(err)
		} else if string(b) != tc.want {
			t.Errorf("Marshal(%v)=%s, want %s", tc.in, b, tc.want)
		}
	}
	var iv stats.Interval
	if err := json.Unmarshal([]byte(`{"lower":null,"upper":0.25}`), &iv); err != nil {
		t.Fatal(err)
	}
	isNaN(t, "Lower", iv.Lower)
	approx(t, "Upper", iv.Upper, 0.25, 0)
	if err := json.Unmarshal([]byte(`{"lower":"x"}`), &iv); err == nil {
		t.Fatal("Unmarshal of a string succeeded, want an error")
	}
}

func TestInterval_Contains(t *testing.T) {
	iv := stats.Interval{Lower: -1, Upper: 2}
	if !iv.Contains(0) || !iv.Contains(2) || iv.Contains(2.5) {
		t.Fatal("Contains is wrong on [-1, 2]")
	}
	if (stats.Interval{Lower: stats.NaN(), Upper: stats.NaN()}).Contains(0) {
		t.Fatal("an undefined interval contains 0")
	}
}
