package stats

import (
	"fmt"
	"math"
	"strconv"
)

// VerdictUnreliable opens the verdict of every comparison under a sample
// ratio mismatch: whatever the numbers say, they do not say who wins.
const VerdictUnreliable = "unreliable: sample ratio mismatch"

// verdict writes the sentence people read for one comparison, e.g.
// "new_journey beats old_journey: +3.1 pp (+12%), 95% CI +0.90 to +5.3 pp, p=0.002".
// Significance is judged on the adjusted p-value; the sentence shows the raw
// one and, when Holm changed it, the adjusted one too.
//
// With sequential, the interval is the confidence sequence ("95% CS") and
// the p-value the always-valid one ("always-valid p=...").
//
// correction names the adjustment of the p-values (Report.Correction).
func verdict(c Comparison, binary, lowerIsBetter bool, level float64, sequential bool, correction string) string {
	pv, adj, ci, ciName := c.PValue, c.AdjustedPValue, c.DifferenceCI, "CI"
	if sequential && c.Sequential != nil {
		pv, adj, ci, ciName = c.Sequential.PValue, c.Sequential.AdjustedPValue, c.Sequential.CI, "CS"
		if !pv.Valid() && c.PValue.Valid() && c.Note == "" {
			c.Note = "no variance yet"
		}
	}
	if !pv.Valid() {
		if c.Unreliable {
			return fmt.Sprintf("%s; %s vs %s: cannot be tested (%s)", VerdictUnreliable, c.Group, c.Control, c.Note)
		}
		return fmt.Sprintf("%s vs %s: cannot be tested (%s)", c.Group, c.Control, c.Note)
	}
	unit, scale := "", 1.0
	if binary {
		unit, scale = " pp", 100
	}
	effect := formatSigned(float64(c.Difference)*scale) + unit
	if c.RelativeLift.Valid() {
		effect += " (" + formatSigned(float64(c.RelativeLift)*100) + "%)"
	}
	if ci.Lower.Valid() && ci.Upper.Valid() {
		effect += fmt.Sprintf(", %s %s %s to %s%s", formatLevel(level), ciName,
			formatSigned(float64(ci.Lower)*scale), formatSigned(float64(ci.Upper)*scale), unit)
	}
	p := formatP(float64(pv))
	if sequential {
		p = "always-valid " + p
	} else if c.Test == TestFisherExact {
		p += " (Fisher's exact test)"
	}
	if adj != pv {
		p += ", " + correctionLabel(correction) + "-adjusted " + formatP(float64(adj))
	}

	if c.Unreliable {
		return fmt.Sprintf("%s; %s vs %s: %s, %s", VerdictUnreliable, c.Group, c.Control, effect, p)
	}
	if !c.Significant {
		return fmt.Sprintf("no significant difference between %s and %s: %s, %s", c.Group, c.Control, effect, p)
	}
	better := c.Difference > 0
	if lowerIsBetter {
		better = !better
	}
	if better {
		return fmt.Sprintf("%s beats %s: %s, %s", c.Group, c.Control, effect, p)
	}
	return fmt.Sprintf("%s is worse than %s: %s, %s", c.Group, c.Control, effect, p)
}

// formatSigned prints x with a sign and about two significant digits, at
// least one decimal: 3.1, 0.42, 0.042, 31.2.
func formatSigned(x float64) string {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	d := 1 - int(math.Floor(math.Log10(math.Abs(x))))
	d = max(1, min(d, 6))
	s := strconv.FormatFloat(x, 'f', d, 64)
	if x > 0 {
		s = "+" + s
	}
	return s
}

// formatP prints "p=" and a p-value with two significant digits, or
// "p<0.0001" below that.
func formatP(p float64) string {
	if p < 0.0001 {
		return "p<0.0001"
	}
	return "p=" + strconv.FormatFloat(p, 'g', 2, 64)
}

// formatLevel prints a confidence level as a percentage: 0.95 as "95%".
func formatLevel(level float64) string {
	return strconv.FormatFloat(level*100, 'g', 6, 64) + "%"
}
