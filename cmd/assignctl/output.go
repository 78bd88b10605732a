package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/assign-dev/assign/assign"
)

// writeJSON writes v indented, with a final newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeCSV writes a header and rows.
func writeCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// newTable returns a tabwriter for aligned columns. What it writes goes
// through a terminalWriter: text from the server (ids, group names, who made
// a change) can never reach the terminal as a control sequence, whichever
// table prints it. Cells are also escaped one by one (termText), so that a
// tab or newline inside a name cannot shift the table's columns.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(&terminalWriter{w: w}, 0, 0, 2, ' ', 0)
}

// termText escapes, for a table cell, every character that could act on a
// terminal or on the table's layout: C0 controls (tab and newline included),
// DEL, C1 controls, the line and paragraph separators U+2028 and U+2029, the
// bidirectional formatting characters, and bytes that are not UTF-8. They are
// shown as Go-style escapes: ESC as \x1b, U+2028 as \u2028. JSON output is
// escaped by encoding/json instead; CSV is data for programs and is left as is.
func termText(s string) string {
	return string(appendTerminalSafe(nil, []byte(s), false))
}

// terminalWriter escapes what termText escapes, except tabs and newlines: it
// sits under a tabwriter, whose columns are made of them.
type terminalWriter struct {
	w    io.Writer
	tail []byte // an incomplete UTF-8 sequence at the end of the last Write
}

func (t *terminalWriter) Write(p []byte) (int, error) {
	b := append(t.tail, p...)
	t.tail = nil
	if n := incompleteTail(b); n > 0 {
		t.tail = append([]byte(nil), b[len(b)-n:]...)
		b = b[:len(b)-n]
	}
	if _, err := t.w.Write(appendTerminalSafe(nil, b, true)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// incompleteTail returns the length of a UTF-8 sequence cut short at the end
// of b, 0 when b ends on a whole character.
func incompleteTail(b []byte) int {
	for n := 1; n <= utf8.UTFMax-1 && n <= len(b); n++ {
		c := b[len(b)-n]
		if utf8.RuneStart(c) {
			if c >= utf8.RuneSelf && !utf8.FullRune(b[len(b)-n:]) {
				return n
			}
			return 0
		}
	}
	return 0
}

// appendTerminalSafe appends b to dst with unsafe characters escaped;
// keepLayout leaves tabs and newlines alone.
func appendTerminalSafe(dst, b []byte, keepLayout bool) []byte {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size == 1:
			dst = fmt.Appendf(dst, `\x%02x`, b[0])
		case keepLayout && (r == '\t' || r == '\n'):
			dst = append(dst, byte(r))
		case r < 0x80 && unicode.IsControl(r):
			dst = fmt.Appendf(dst, `\x%02x`, r)
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || bidiControl(r):
			dst = fmt.Appendf(dst, `\u%04x`, r)
		default:
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}

// bidiControl reports the characters that reorder text on display (the
// "Trojan Source" characters): marks, embeddings, overrides and isolates.
func bidiControl(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' || ('\u202a' <= r && r <= '\u202e') || ('\u2066' <= r && r <= '\u2069')
}

// fullFloat prints a number at full precision for machines; undefined
// numbers are empty cells.
func fullFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// experimentHeader is the CSV header of experiments.
var experimentHeader = []string{"experiment_id", "status", "groups", "enrolled", "maximum_sample_size", "remaining",
	"sampling_probability", "winner", "layer", "version", "updated_at", "updated_by"}

func experimentRow(e *assign.Experiment) []string {
	var enrolled, remaining int64
	if e.Stats != nil {
		enrolled, remaining = e.Stats.Enrolled, e.Stats.Remaining
	}
	return []string{e.ID, string(e.Status), groupsText(e.Groups, ";"), strconv.FormatInt(enrolled, 10),
		strconv.FormatInt(e.MaxSampleSize, 10), strconv.FormatInt(remaining, 10), fullFloat(e.SamplingProbability),
		e.Winner, e.Layer, strconv.FormatInt(e.Version, 10), timeText(e.UpdatedAt), e.UpdatedBy}
}

// groupsText prints groups as "old_journey=0.5;new_journey=0.5".
func groupsText(groups []assign.Group, sep string) string {
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = g.Name + "=" + fullFloat(g.Probability)
		if sep != ";" { // a table (CSV keeps the data as it is)
			parts[i] = termText(g.Name) + "=" + fullFloat(g.Probability)
		}
	}
	return strings.Join(parts, sep)
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// writeExperiments writes a listing in the format.
func writeExperiments(w io.Writer, format string, list []*assign.Experiment) error {
	switch format {
	case OutputJSON:
		if list == nil {
			list = []*assign.Experiment{}
		}
		return writeJSON(w, list)
	case OutputCSV:
		rows := make([][]string, len(list))
		for i, e := range list {
			rows[i] = experimentRow(e)
		}
		return writeCSV(w, experimentHeader, rows)
	}
	t := newTable(w)
	fmt.Fprintln(t, "ID\tSTATUS\tGROUPS\tENROLLED\tMAX\tSAMPLING\tWINNER\tVERSION")
	for _, e := range list {
		r := experimentRow(e)
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", termText(r[0]), termText(r[1]), groupsText(e.Groups, " "), r[3], r[4], r[6], dash(termText(r[7])), r[9])
	}
	return t.Flush()
}

// writeExperiment writes one experiment in the format: in a table, its
// configuration and a row per group with its members.
func writeExperiment(w io.Writer, format string, e *assign.Experiment) error {
	switch format {
	case OutputJSON:
		return writeJSON(w, e)
	case OutputCSV:
		return writeCSV(w, experimentHeader, [][]string{experimentRow(e)})
	}
	r := experimentRow(e)
	t := newTable(w)
	fmt.Fprintf(t, "Experiment:\t%s\n", termText(e.ID))
	fmt.Fprintf(t, "Status:\t%s\n", termText(string(e.Status)))
	if e.EffectiveStatus != "" && e.EffectiveStatus != e.Status {
		fmt.Fprintf(t, "Effective status:\t%s (new users get not_running)\n", termText(string(e.EffectiveStatus)))
	}
	if e.StartAt != nil || e.EndAt != nil {
		start, end := "-", "-"
		if e.StartAt != nil {
			start = timeText(*e.StartAt)
		}
		if e.EndAt != nil {
			end = timeText(*e.EndAt)
		}
		fmt.Fprintf(t, "Schedule:\t%s to %s (new users from the start until the end)\n", start, end)
	}
	if e.Winner != "" {
		fmt.Fprintf(t, "Winner:\t%s (rolled out: every user gets it)\n", termText(e.Winner))
	}
	fmt.Fprintf(t, "Sampling probability:\t%s\n", r[6])
	fmt.Fprintf(t, "Maximum sample size:\t%s\n", r[4])
	fmt.Fprintf(t, "Enrolled:\t%s (remaining %s)\n", r[3], r[5])
	if e.Layer != "" {
		fmt.Fprintf(t, "Layer:\t%s\n", termText(e.Layer))
	}
	for _, rule := range e.Eligibility {
		b, _ := json.Marshal(rule)
		fmt.Fprintf(t, "Eligibility:\t%s\n", termText(string(b)))
	}
	fmt.Fprintf(t, "Version:\t%d (updated %s by %s)\n", e.Version, r[10], dash(termText(e.UpdatedBy)))
	if err := t.Flush(); err != nil {
		return err
	}
	if len(e.Overrides) > 0 {
		fmt.Fprintln(w)
		t = newTable(w)
		fmt.Fprintln(t, "OVERRIDE USER\tGROUP")
		for _, user := range slices.Sorted(maps.Keys(e.Overrides)) {
			fmt.Fprintf(t, "%s\t%s\n", termText(user), termText(e.Overrides[user]))
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	t = newTable(w)
	fmt.Fprintln(t, "GROUP\tPROBABILITY\tENROLLED")
	for _, g := range e.Groups {
		var n int64
		if e.Stats != nil {
			n = e.Stats.PerGroup[g.Name]
		}
		fmt.Fprintf(t, "%s\t%s\t%d\n", termText(g.Name), fullFloat(g.Probability), n)
	}
	return t.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
