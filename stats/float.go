package stats

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// Float is a float64 that marshals NaN and ±Inf as JSON null, and null back
// to NaN. encoding/json refuses NaN outright, and several results are
// legitimately undefined (the rate of a group nobody joined, a p-value without
// variance), so every number of the Report that can be undefined is a Float.
type Float float64

// NaN returns an undefined Float.
func NaN() Float { return Float(math.NaN()) }

// Valid reports whether f is a finite number.
func (f Float) Valid() bool {
	return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0)
}

// MarshalJSON implements json.Marshaler: finite values in the shortest exact
// form, anything else as null.
func (f Float) MarshalJSON() ([]byte, error) {
	if !f.Valid() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler: null reads back as NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*f = NaN()
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// Interval is a two-sided confidence interval. Both ends are NaN (null) when
// the interval is undefined.
type Interval struct {
	Lower Float `json:"lower"`
	Upper Float `json:"upper"`
}

// undefinedInterval is the interval of an estimate that cannot be computed.
func undefinedInterval() Interval { return Interval{Lower: NaN(), Upper: NaN()} }

// Contains reports whether x lies within the interval, ends included.
func (iv Interval) Contains(x float64) bool {
	return float64(iv.Lower) <= x && x <= float64(iv.Upper)
}
