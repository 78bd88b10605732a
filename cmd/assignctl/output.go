package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

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

// newTable returns a tabwriter for aligned columns.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
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
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r[0], r[1], groupsText(e.Groups, " "), r[3], r[4], r[6], dash(r[7]), r[9])
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
	fmt.Fprintf(t, "Experiment:\t%s\n", e.ID)
	fmt.Fprintf(t, "Status:\t%s\n", e.Status)
	if e.Winner != "" {
		fmt.Fprintf(t, "Winner:\t%s (rolled out: every user gets it)\n", e.Winner)
	}
	fmt.Fprintf(t, "Sampling probability:\t%s\n", r[6])
	fmt.Fprintf(t, "Maximum sample size:\t%s\n", r[4])
	fmt.Fprintf(t, "Enrolled:\t%s (remaining %s)\n", r[3], r[5])
	if e.Layer != "" {
		fmt.Fprintf(t, "Layer:\t%s\n", e.Layer)
	}
	for _, rule := range e.Eligibility {
		b, _ := json.Marshal(rule)
		fmt.Fprintf(t, "Eligibility:\t%s\n", b)
	}
	fmt.Fprintf(t, "Version:\t%d (updated %s by %s)\n", e.Version, r[10], dash(e.UpdatedBy))
	if err := t.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	t = newTable(w)
	fmt.Fprintln(t, "GROUP\tPROBABILITY\tENROLLED")
	for _, g := range e.Groups {
		var n int64
		if e.Stats != nil {
			n = e.Stats.PerGroup[g.Name]
		}
		fmt.Fprintf(t, "%s\t%s\t%d\n", g.Name, fullFloat(g.Probability), n)
	}
	return t.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
