package stats

import (
	"fmt"
	"math"

	"github.com/assign-dev/assign/assign"
	"gonum.org/v1/gonum/stat/distuv"
)

// SRMThreshold is the p-value below which a sample ratio mismatch is flagged.
// It is strict on purpose: with large samples the test is powerful, and a
// flagged mismatch means the assignment itself is suspect, not the effect.
const SRMThreshold = 0.001

// SRM is a sample-ratio-mismatch check: Pearson's chi-square goodness-of-fit
// of the observed group sizes against the configured probabilities.
type SRM struct {
	ChiSquare Float `json:"chi_square"` // null when infinite (users in a group of probability 0) or undefined
	DF        int   `json:"df"`         // groups with a positive probability, minus 1
	PValue    Float `json:"p_value"`
	// Mismatch is true when PValue < SRMThreshold: the observed split is very
	// unlikely under the configured one, so the comparisons should not be trusted.
	Mismatch bool `json:"mismatch"`
	// Warning is a sentence for people when Mismatch is set or the test
	// cannot be run.
	Warning string `json:"warning,omitempty"`
}

// SampleRatioMismatch tests observed group sizes against probabilities
// (same order; normalised by their sum, so weights work too).
//
// Groups with probability 0 expect nobody: they are left out of the
// statistic and the degrees of freedom when empty, and any user in one is an
// outright mismatch (chi-square +Inf, p = 0). With no users, or fewer than two
// groups of positive probability, the test is undefined (p NaN, no flag).
// It returns EINVALID for mismatched lengths, negative counts or probabilities
// that are negative, not finite or all zero.
func SampleRatioMismatch(observed []int64, probabilities []float64) (SRM, error) {
	if len(observed) != len(probabilities) {
		return SRM{}, assign.Invalidf("groups", "%d counts for %d probabilities", len(observed), len(probabilities))
	}
	var total int64
	var sum float64
	for i := range observed {
		p := probabilities[i]
		if observed[i] < 0 {
			return SRM{}, assign.Invalidf("groups", "negative count %d", observed[i])
		} else if p < 0 || math.IsNaN(p) || math.IsInf(p, 0) {
			return SRM{}, assign.Invalidf("groups", "probability %v is not a number in [0, 1]", p)
		}
		total += observed[i]
		sum += p
	}
	if sum == 0 {
		return SRM{}, assign.Invalidf("groups", "all probabilities are 0")
	}

	s := SRM{ChiSquare: NaN(), PValue: NaN(), DF: -1}
	var chi float64
	for i, o := range observed {
		if probabilities[i] == 0 {
			if o > 0 {
				s.ChiSquare, s.PValue, s.Mismatch = Float(math.Inf(1)), 0, true
				s.Warning = fmt.Sprintf("sample ratio mismatch: %d users in a group whose probability is 0", o)
			}
			continue
		}
		s.DF++
		e := float64(total) * probabilities[i] / sum
		if e > 0 {
			d := float64(o) - e
			chi += d * d / e
		}
	}
	switch {
	case s.Mismatch:
		return s, nil
	case total == 0:
		s.Warning = "no users yet: sample ratio not tested"
		return s, nil
	case s.DF < 1:
		s.DF = 0
		s.Warning = "a single group can receive users: sample ratio not tested"
		return s, nil
	}
	s.ChiSquare = Float(chi)
	s.PValue = Float(distuv.ChiSquared{K: float64(s.DF)}.Survival(chi))
	if s.PValue < SRMThreshold {
		s.Mismatch = true
		s.Warning = fmt.Sprintf("SAMPLE RATIO MISMATCH: chi-square %.2f, df %d, %s < %g; the group sizes do not match the configured probabilities, do not trust the comparisons until the assignment is explained",
			chi, s.DF, formatP(float64(s.PValue)), SRMThreshold)
	}
	return s, nil
}
