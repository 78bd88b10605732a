package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/results"
	"github.com/assign-dev/assign/stats"
)

// ResultsCommand analyses an experiment from the warehouse.
type ResultsCommand struct {
	*Main
	Globals
	q           results.Query
	outcomeFile string
	metricsFile string
	window      durationFlag
	lookback    durationFlag
	from        timeFlag
	before      timeFlag
	now         timeFlag
	by          string
}

// durationFlag is a flag holding a window: 7d, 36h, 1d12h.
type durationFlag time.Duration

func (f *durationFlag) String() string {
	if f == nil || *f == 0 {
		return ""
	}
	return results.FormatDuration(time.Duration(*f))
}

func (f *durationFlag) Set(s string) error {
	d, err := results.ParseDuration(s)
	*f = durationFlag(d)
	return err
}

func (c *ResultsCommand) flagSet() *flag.FlagSet {
	fs := newFlagSet("results", &c.Globals, c.Main)
	fs.StringVar(&c.q.OutcomeSQL, "outcome-sql", "", "`SQL` returning user_id, converted (0/1) or value (numeric), and the time column")
	fs.StringVar(&c.outcomeFile, "outcome-file", "", "`file` holding the outcome SQL (\"-\" reads stdin)")
	fs.StringVar(&c.metricsFile, "metrics", "", "metrics `file` (YAML): several metrics in one run, the goal metrics' p-values adjusted together (instead of --outcome-sql)")
	fs.Var(&c.window, "window", "count only events within `duration` (7d, 36h) after each user's enrolled_at, and only users whose window has closed (with --metrics: for the metrics with a time column and no window of their own)")
	fs.Float64Var(&c.q.CapPercentile, "cap-percentile", 0, "cap each user's numeric outcome at this `percentile` of all users' values (e.g. 99)")
	fs.BoolVar(&c.q.CUPED, "cuped", false, "CUPED: reduce variance with each user's same outcome before enrolling (needs --outcome-time-column)")
	fs.Var(&c.lookback, "cuped-lookback", "the CUPED covariate's `duration` before enrollment (default 14d)")
	fs.StringVar(&c.q.TimeColumn, "outcome-time-column", "", "`column` of the outcome SQL with each event's time: only events strictly after the user's enrolled_at count (strongly recommended); a column without a time zone is read as UTC")
	fs.StringVar(&c.q.Control, "control", "", "control `group` (default: the first group)")
	fs.Float64Var(&c.q.ConfidenceLevel, "confidence", stats.DefaultConfidenceLevel, "confidence `level` of the intervals; significance is p < 1 - level")
	fs.BoolVar(&c.q.LowerIsBetter, "lower-is-better", false, "a lower outcome is better (refunds, time to checkout)")
	fs.Var(&c.from, "enrolled-from", "analyse only users enrolled at or after `time` (RFC 3339, or a UTC date YYYY-MM-DD)")
	fs.StringVar(&c.q.Method, "method", "", "`method` of inference: sequential (always-valid, for looking while it runs) or fixed (one look at the planned sample); default sequential unless the experiment is stopped")
	fs.Var(&c.now, "now", "end the runtime of an experiment that has not stopped at `time` (RFC 3339; default now)")
	fs.StringVar(&c.by, "by", "", "split the analysis: `platform` gives one per platform present (web, ios, android, other, none), each with its own SRM check")
	fs.Var(&c.before, "enrolled-before", "analyse only users enrolled before `time` (RFC 3339, or a UTC date YYYY-MM-DD)")
	return fs
}

// ParseFlags implements Command.
func (c *ResultsCommand) ParseFlags(args []string) error {
	args, err := parse(c.flagSet(), args)
	if err != nil {
		return err
	} else if err := exactArgs(args, "experiment id"); err != nil {
		return err
	}
	c.q.ExperimentID = args[0]
	given := 0
	for _, s := range []string{c.q.OutcomeSQL, c.outcomeFile, c.metricsFile} {
		if s != "" {
			given++
		}
	}
	if given != 1 {
		return usageErrorf("give exactly one of --outcome-sql, --outcome-file and --metrics")
	}
	if c.metricsFile != "" && (c.q.TimeColumn != "" || c.q.CapPercentile != 0 || c.q.CUPED || c.q.LowerIsBetter || c.lookback != 0) {
		return usageErrorf("with --metrics, each metric's time column, cap, CUPED and direction come from the file")
	}
	if c.by != "" && c.by != byPlatform {
		return usageErrorf("--by takes platform, not %q", c.by)
	} else if c.by != "" && c.metricsFile != "" {
		return usageErrorf("--by platform analyses one outcome (--outcome-sql or --outcome-file), not --metrics")
	}
	c.q.Window, c.q.CUPEDLookback = time.Duration(c.window), time.Duration(c.lookback)
	if !(c.q.ConfidenceLevel > 0 && c.q.ConfidenceLevel < 1) {
		return usageErrorf("--confidence must be in (0, 1), e.g. 0.95")
	}
	switch c.q.Method {
	case "", stats.MethodSequential, stats.MethodFixed:
	default:
		return usageErrorf("--method must be sequential or fixed, got %q", c.q.Method)
	}
	c.q.EnrolledFrom, c.q.EnrolledBefore, c.q.Now = time.Time(c.from), time.Time(c.before), time.Time(c.now)
	if !c.q.EnrolledFrom.IsZero() && !c.q.EnrolledBefore.IsZero() && !c.q.EnrolledFrom.Before(c.q.EnrolledBefore) {
		return usageErrorf("--enrolled-before must be after --enrolled-from")
	}
	return nil
}

// timeFlag is a flag holding an instant: RFC 3339, or a date (midnight UTC).
type timeFlag time.Time

func (f *timeFlag) String() string {
	if f == nil || time.Time(*f).IsZero() {
		return ""
	}
	return time.Time(*f).Format(time.RFC3339Nano)
}

func (f *timeFlag) Set(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		if t, err = time.Parse(time.DateOnly, s); err != nil {
			return fmt.Errorf("want RFC 3339 (2026-03-02T09:00:00Z) or a date (2026-03-02), got %q", s)
		}
	}
	*f = timeFlag(t.UTC())
	return nil
}

// Run implements Command.
func (c *ResultsCommand) Run(ctx context.Context) error {
	format, err := c.format(c.Main)
	if err != nil {
		return err
	}
	if c.outcomeFile != "" {
		var b []byte
		if c.outcomeFile == "-" {
			b, err = io.ReadAll(c.Stdin)
		} else {
			b, err = os.ReadFile(c.outcomeFile)
		}
		if err != nil {
			return err
		}
		c.q.OutcomeSQL = string(b)
	}
	var metrics *results.MetricsFile
	if c.metricsFile != "" {
		if metrics, err = results.LoadMetrics(c.metricsFile); err != nil {
			return err
		}
		for i := range metrics.Metrics {
			if m := &metrics.Metrics[i]; m.Window == "" && m.TimeColumn != "" && c.q.Window > 0 {
				m.Window = results.FormatDuration(c.q.Window)
			}
		}
	}
	w, err := results.Open(ctx, c.WarehouseURL)
	if err != nil {
		return err
	}
	defer w.Close()
	if metrics != nil {
		return c.runMetrics(ctx, w, metrics, format)
	} else if c.by == byPlatform {
		return c.runByPlatform(ctx, w, format)
	}

	res, err := w.Analyze(ctx, c.q)
	if c.fromAssignd(ctx, &err) {
		res, err = w.Analyze(ctx, c.q)
	}
	if err != nil {
		return err
	}
	// Loud whatever the format: scripts reading JSON may not look.
	if format != OutputTable {
		c.warnLoudly("", res)
	}
	switch format {
	case OutputJSON:
		return writeJSON(c.Stdout, res)
	case OutputCSV:
		return writeResultsCSV(c.Stdout, res)
	}
	return writeResultsTable(c.Stdout, res)
}

// fromAssignd handles an experiment the warehouse does not know yet (the
// exporter has not written its configuration): with an admin token, it
// reads the groups, status and cap from assignd into the query and reports
// true, to analyse again. A failure to read them replaces *err.
func (c *ResultsCommand) fromAssignd(ctx context.Context, err *error) bool {
	if assign.ErrorCode(*err) != assign.ENOTFOUND || c.AdminToken == "" {
		return false
	}
	api, cerr := c.client(c.Main)
	if cerr != nil {
		return false
	}
	e, aerr := api.Experiment(ctx, c.q.ExperimentID)
	if aerr != nil {
		*err = fmt.Errorf("%s; and from assignd: %w", assign.ErrorMessage(*err), aerr)
		return false
	}
	c.q.Groups, c.q.Status, c.q.MaxSampleSize = e.Groups, e.Status, e.MaxSampleSize
	return true
}

// warnLoudly repeats on stderr the warnings that make a verdict wrong.
func (c *ResultsCommand) warnLoudly(metric string, res *results.Result) {
	if metric != "" {
		metric = "metric " + metric + ": "
	}
	if res.SRM.Mismatch {
		fmt.Fprintf(c.Stderr, "assignctl: WARNING: %s%s\n", metric, res.SRM.Warning)
	}
	if res.PeekingWarning != "" {
		fmt.Fprintf(c.Stderr, "assignctl: WARNING: %s%s\n", metric, res.PeekingWarning)
	}
}

// runMetrics analyses every metric of a metrics file.
func (c *ResultsCommand) runMetrics(ctx context.Context, w *results.Warehouse, f *results.MetricsFile, format string) error {
	res, err := w.AnalyzeMetrics(ctx, c.q, f)
	if c.fromAssignd(ctx, &err) {
		res, err = w.AnalyzeMetrics(ctx, c.q, f)
	}
	if err != nil {
		return err
	}
	if format != OutputTable {
		for _, m := range res.Metrics {
			if m.Result != nil {
				c.warnLoudly(m.Metric.Name, m.Result)
			}
		}
	}
	switch format {
	case OutputJSON:
		err = writeJSON(c.Stdout, res)
	case OutputCSV:
		err = writeMetricsCSV(c.Stdout, res)
	default:
		err = writeMetricsTable(c.Stdout, res)
	}
	if err != nil {
		return err
	}
	var failed []string
	for _, m := range res.Metrics {
		if m.Error != "" {
			failed = append(failed, m.Metric.Name+": "+m.Error)
		}
	}
	if len(failed) > 0 {
		return assign.Errorf(assign.EINVALID, "%d of %d metrics could not be analysed: %s", len(failed), len(res.Metrics), strings.Join(failed, "; "))
	}
	return nil
}

// Usage implements Command.
func (c *ResultsCommand) Usage() {
	var b strings.Builder
	b.WriteString(`Usage: assignctl results [flags] --outcome-sql SQL <experiment id>

Analyses an experiment: the enrollments in the warehouse joined with an
outcome you supply as SQL, aggregated per group in the warehouse.

The outcome query returns one row per event with the columns
	user_id       as in the enrollments table
	converted     0/1 or boolean (binary outcome), or
	value         a number (numeric outcome)
	<time>        when it happened, named by --outcome-time-column
Only events strictly after each user's enrolled_at count (<time> >
enrolled_at). Every comparison is made in UTC, wherever assignctl runs: a
time column without a zone (TIMESTAMP, DATE) is read as UTC, and a note says
so; convert local wall-clock times in the query (AT TIME ZONE). Per user: converted
is 1 if any event converted; value is the sum of the values. Enrolled users
without events count as not converted, or as 0.

Per group it prints n, conversions and rate (or mean and sd), and against the
control: the difference and relative lift with confidence intervals, the
two-proportion z-test (binary; Fisher's exact test when an expected cell
count is below 5, said in the verdict) or Welch t-test (numeric) p-value,
Holm-adjusted with more than two groups, a sample-ratio-mismatch check
against the configured probabilities (flagged loudly when p < 0.001; every
verdict then reads "unreliable: sample ratio mismatch" and nothing is
significant), a verdict, and the effect each comparison can detect with 80%
power with the users it has (see assignctl plan).

Looking at a fixed-horizon p-value again and again while users arrive, and
stopping at the first p < 0.05, finds false winners (a quarter of A/A tests
looked at 20 times). While the experiment has not stopped, the verdict
therefore rests by default on sequential testing (--method sequential): the
mixture sequential probability ratio test (mSPRT) of Johari et al., "Always
Valid Inference" (2022), whose always-valid p-value and confidence sequence
(CS) hold however often you look; it is tuned for the cap
(maximum_sample_size) and is wider than the fixed interval, most of all
early on. Once stopped, the default is the fixed-horizon test above
(--method fixed); used on a running experiment below its cap it prints a
loud warning. The header shows the experiment's status and runtime (first
enrollment to its stop, or to now); JSON has both methods' numbers (method,
and per comparison sequential).

Several metrics in one run: --metrics FILE (YAML; see
examples/shipping-address/metrics.yaml) analyses each metric (its SQL, type,
goal or guardrail, direction, time column, window, cap, CUPED), adjusts the
goal metrics' p-values together (the file's correction: holm, the default,
benjamini-hochberg or none) and ends with one verdict line per metric.
--window 7d counts only events within 7 days after each user's enrolled_at,
and only users whose window has closed by --now (the others are counted and
left out). --cap-percentile 99 caps each user's numeric value at the 99th
percentile of all users. A numeric lift has Fieller's interval; a difference
whose skewness is beyond Cochran's rule is flagged (cap the values).
--cuped adjusts for the same outcome before enrollment (CUPED).

Example (DuckDB warehouse, orders in a CSV file):

	assignctl results --warehouse-url assign.duckdb \
		--outcome-sql "SELECT user_id, ordered_at, 1 AS converted FROM read_csv('orders.csv')" \
		--outcome-time-column ordered_at --control old_journey f380739f-62f3-4316-8acf-93ed5744cb9e

The configured probabilities come from the warehouse experiments table, or
from assignd when the exporter has not written them yet (needs --admin-token).
When they changed during the experiment, the sample ratio check weighs each
period's probabilities by its users, and a note gives the --enrolled-from and
--enrolled-before flags that analyse one period alone.

--by platform runs the analysis once per platform the members enrolled from
(web, ios, android, other, and none for rows without one), each with its own
sample ratio check: web results do not carry over to mobile. QA overrides are
never analysed.

Flags:

`)
	printFlags(&b, c.flagSet())
	fmt.Fprint(c.Stdout, b.String())
}

// Number formats of the results table. JSON and CSV carry full precision.
func pct(f float64) string {
	return num(f, func(f float64) string { return fmt.Sprintf("%.2f%%", f*100) })
}
func signedPct(f float64) string {
	return num(f, func(f float64) string { return fmt.Sprintf("%+.2f%%", f*100) })
}
func pp(f float64) string {
	return num(f, func(f float64) string { return fmt.Sprintf("%+.2f", f*100) })
}
func sig(f float64) string {
	return num(f, func(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) })
}
func signedSig(f float64) string {
	return num(f, func(f float64) string {
		s := strconv.FormatFloat(f, 'g', 6, 64)
		if f >= 0 {
			s = "+" + s
		}
		return s
	})
}
func fixed(f float64, d int) string {
	return num(f, func(f float64) string { return strconv.FormatFloat(f, 'f', d, 64) })
}

// pValue prints a p-value with 4 decimals, or in scientific notation below
// 0.0001 so that a tiny p is never printed as 0.
func pValue(f float64) string {
	return num(f, func(f float64) string {
		if f < 0.0001 {
			return strconv.FormatFloat(f, 'e', 2, 64)
		}
		return strconv.FormatFloat(f, 'f', 4, 64)
	})
}

func num(f float64, format func(float64) string) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	return format(f)
}

// writeResultsTable prints the report for people.
func writeResultsTable(w io.Writer, r *results.Result) error {
	fmt.Fprintf(w, "Experiment: %s\n", r.ExperimentID)
	writeOutcomeLines(w, r)
	fmt.Fprintf(w, "Control:    %s    Confidence: %s    Correction: %s\n", r.Control, levelText(r), r.Correction)
	writeContextLines(w, r)
	writeBanners(w, r)
	return writeResultBody(w, r, true)
}

func levelText(r *results.Result) string {
	return strconv.FormatFloat(r.ConfidenceLevel*100, 'g', 6, 64) + "%"
}

// writeOutcomeLines prints what was counted: the outcome, the time rule,
// the window, the cap and CUPED.
func writeOutcomeLines(w io.Writer, r *results.Result) {
	counted := "every event (no time column)"
	if r.TimeColumn != "" {
		counted = "events with " + r.TimeRule
		if r.TimeRule == "" {
			counted = "events with " + r.TimeColumn + " " + results.TimeRule
		}
		if r.Window != "" {
			counted += " and within " + r.Window + " after it"
		}
	}
	fmt.Fprintf(w, "Outcome:    %s (%s), counted from %s\n", r.OutcomeColumn, r.Outcome, counted)
	if r.Window != "" {
		fmt.Fprintf(w, "Window:     %s: users whose window closed by %s; %d later users left out\n", r.Window, r.WindowClosedBy.Format(time.RFC3339), r.WindowOpenUsers)
	}
	if r.Cap != nil {
		fmt.Fprintf(w, "Capped:     at the %s percentile, %s: %d users' values lowered to it\n", results.Ordinal(r.Cap.Percentile), sig(float64(r.Cap.Value)), r.Cap.Users)
	}
	if r.CUPED != nil {
		fmt.Fprintf(w, "CUPED:      covariate the same outcome over %s before enrolling, theta %s, variance reduced by %s\n",
			results.FormatDuration(time.Duration(r.CUPED.LookbackSeconds*float64(time.Second))), sig(r.CUPED.Theta), pct(float64(r.CUPED.VarianceReduction)))
	}
}

// writeContextLines prints the enrollment period, the status, runtime and
// method.
func writeContextLines(w io.Writer, r *results.Result) {
	if r.EnrolledFrom != nil || r.EnrolledBefore != nil {
		var parts []string
		if r.EnrolledFrom != nil {
			parts = append(parts, "from "+r.EnrolledFrom.Format(time.RFC3339Nano))
		}
		if r.EnrolledBefore != nil {
			parts = append(parts, "before "+r.EnrolledBefore.Format(time.RFC3339Nano))
		}
		fmt.Fprintf(w, "Enrolled:   %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "Status:     %s    Runtime: %s\n", statusName(r), runtimeText(r))
	fmt.Fprintf(w, "Method:     %s\n", methodText(r))
}

// writeBanners prints the warnings that make a verdict wrong, loudly.
func writeBanners(w io.Writer, r *results.Result) {
	if r.SRM.Mismatch {
		fmt.Fprintf(w, "\n%s\n!!! %s\n%s\n", strings.Repeat("!", 72), r.SRM.Warning, strings.Repeat("!", 72))
	}
	if r.PeekingWarning != "" {
		fmt.Fprintf(w, "\n%s\n!!! %s\n%s\n", strings.Repeat("!", 72), r.PeekingWarning, strings.Repeat("!", 72))
	}
}

// writeResultBody prints the groups, the comparisons, the sample ratio
// check, the verdicts (when verdicts is set), the detectable effects and
// the notes of one analysis.
func writeResultBody(w io.Writer, r *results.Result, verdicts bool) error {
	binary := r.Outcome == stats.OutcomeBinary
	level := levelText(r)
	fmt.Fprintln(w)
	t := newTable(w)
	if binary {
		fmt.Fprintln(t, "GROUP\tPROBABILITY\tN\tEXPECTED N\tCONVERSIONS\tRATE")
	} else {
		fmt.Fprintln(t, "GROUP\tPROBABILITY\tN\tEXPECTED N\tMEAN\tSD")
	}
	for _, g := range r.Groups {
		name := g.Name
		if g.Control {
			name += " (control)"
		}
		if binary {
			fmt.Fprintf(t, "%s\t%s\t%d\t%s\t%d\t%s\n", name, fullFloat(g.Probability), g.N, fixed(float64(g.ExpectedN), 1), *g.Conversions, pct(float64(g.Rate)))
		} else {
			fmt.Fprintf(t, "%s\t%s\t%d\t%s\t%s\t%s\n", name, fullFloat(g.Probability), g.N, fixed(float64(g.ExpectedN), 1), sig(float64(g.Mean)), sig(float64(g.SD)))
		}
	}
	if err := t.Flush(); err != nil {
		return err
	}

	if len(r.Comparisons) > 0 && r.Method == stats.MethodSequential {
		fmt.Fprintln(w)
		t = newTable(w)
		unit := ""
		if binary {
			unit = " (pp)"
		}
		fmt.Fprintf(t, "GROUP\tVS\tDIFFERENCE%s\t%s CS (ALWAYS VALID)\tLIFT\tALWAYS-VALID P\t%s\n", unit, level, adjustedHeader(r))
		for _, c := range r.Comparisons {
			s := c.Sequential
			diff, lo, hi := signedSig(float64(c.Difference)), signedSig(float64(s.CI.Lower)), signedSig(float64(s.CI.Upper))
			if binary {
				diff, lo, hi = pp(float64(c.Difference)), pp(float64(s.CI.Lower)), pp(float64(s.CI.Upper))
			}
			holm := "-"
			if r.Correction != stats.CorrectionNone {
				holm = pValue(float64(s.AdjustedPValue))
			}
			fmt.Fprintf(t, "%s\t%s\t%s\t[%s, %s]\t%s\t%s\t%s\n", c.Group, c.Control, diff, lo, hi,
				signedPct(float64(c.RelativeLift)), pValue(float64(s.PValue)), holm)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	} else if len(r.Comparisons) > 0 {
		fmt.Fprintln(w)
		t = newTable(w)
		stat, unit := "T\tDF", ""
		if binary {
			stat, unit = "Z", " (pp)"
		}
		fmt.Fprintf(t, "GROUP\tVS\tDIFFERENCE%s\t%s CI\tLIFT\tLIFT %s CI\t%s\tP\t%s\n", unit, level, level, stat, adjustedHeader(r))
		for _, c := range r.Comparisons {
			diff, lo, hi := signedSig(float64(c.Difference)), signedSig(float64(c.DifferenceCI.Lower)), signedSig(float64(c.DifferenceCI.Upper))
			st := fixed(float64(c.Statistic), 3) + "\t" + fixed(float64(c.DF), 1)
			if binary {
				diff, lo, hi = pp(float64(c.Difference)), pp(float64(c.DifferenceCI.Lower)), pp(float64(c.DifferenceCI.Upper))
				st = fixed(float64(c.Statistic), 3)
			}
			holm := "-"
			if r.Correction != stats.CorrectionNone {
				holm = pValue(float64(c.AdjustedPValue))
			}
			fmt.Fprintf(t, "%s\t%s\t%s\t[%s, %s]\t%s\t[%s, %s]\t%s\t%s\t%s\n", c.Group, c.Control, diff, lo, hi,
				signedPct(float64(c.RelativeLift)), signedPct(float64(c.RelativeLiftCI.Lower)), signedPct(float64(c.RelativeLiftCI.Upper)),
				st, pValue(float64(c.PValue)), holm)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w)
	srm := "no evidence of mismatch"
	if r.SRM.Mismatch {
		srm = "MISMATCH (see above): every verdict is unreliable"
	} else if !r.SRM.PValue.Valid() {
		srm = "not tested"
	}
	fmt.Fprintf(w, "Sample ratio: chi-square %s, df %d, p=%s: %s\n", fixed(float64(r.SRM.ChiSquare), 4), r.SRM.DF, pValue(float64(r.SRM.PValue)), srm)
	if len(r.Comparisons) > 0 {
		if verdicts {
			fmt.Fprintln(w, "\nVerdict:")
			for _, c := range r.Comparisons {
				fmt.Fprintf(w, "  %s\n", c.Verdict)
			}
		}
		fixedNote := ""
		if r.Method == stats.MethodSequential {
			fixedNote = ", by the sequential test at this look"
		}
		fmt.Fprintf(w, "\nDetectable with these users (%s power, %s%s):\n", strconv.FormatFloat(r.DetectablePower*100, 'g', 6, 64)+"%", detectableLevel(r), fixedNote)
		for _, c := range r.Comparisons {
			d := float64(c.DetectableEffect)
			if r.Method == stats.MethodSequential && c.Sequential != nil {
				d = float64(c.Sequential.DetectableEffect)
			}
			var effect string
			switch {
			case math.IsNaN(d):
				effect = "- (not enough users or no variance yet)"
			case binary:
				effect = fmt.Sprintf("%s pp", pp(d))
			default:
				effect = signedSig(d)
			}
			fmt.Fprintf(w, "  %s vs %s: %s\n", c.Group, c.Control, effect)
		}
	}
	var notes []string
	for _, c := range r.Comparisons {
		if c.Note != "" {
			notes = append(notes, c.Group+" vs "+c.Control+": "+c.Note)
		}
	}
	for _, s := range r.Warnings {
		if s != r.SRM.Warning && s != r.PeekingWarning {
			notes = append(notes, s)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, s := range notes {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	return nil
}

// adjustedHeader names the column of adjusted p-values.
func adjustedHeader(r *results.Result) string {
	if r.Correction == stats.CorrectionBH {
		return "P (BH)"
	}
	return "P (HOLM)"
}

// writeMetricsTable prints every metric for people: the experiment once,
// then each metric's analysis, then one verdict line per metric and
// comparison.
func writeMetricsTable(w io.Writer, res *results.MetricsResult) error {
	fmt.Fprintf(w, "Experiment: %s\n", res.ExperimentID)
	var first *results.Result
	for _, m := range res.Metrics {
		if m.Result != nil {
			first = m.Result
			break
		}
	}
	family := fmt.Sprintf("%s across the %d goal comparisons", res.Correction, res.GoalComparisons)
	switch res.GoalComparisons {
	case 0:
		family = "none (no goal metric)"
	case 1:
		family = "none (one goal comparison)"
	}
	if first != nil {
		fmt.Fprintf(w, "Control:    %s    Confidence: %s    Correction: %s\n", first.Control, levelText(first), family)
		writeContextLines(w, first)
	}
	for _, m := range res.Metrics {
		fmt.Fprintf(w, "\n== %s ==\n", metricTitle(m.Metric))
		if m.Result == nil {
			fmt.Fprintf(w, "ERROR: %s\n", m.Error)
			continue
		}
		writeOutcomeLines(w, m.Result)
		writeBanners(w, m.Result)
		if err := writeResultBody(w, m.Result, false); err != nil {
			return err
		}
	}
	for _, s := range res.Warnings {
		fmt.Fprintf(w, "\nWARNING: %s\n", s)
	}
	fmt.Fprintln(w, "\nVerdicts:")
	for _, m := range res.Metrics {
		name := m.Metric.Name
		if m.Metric.Role == results.RoleGuardrail {
			name += " (guardrail)"
		}
		switch {
		case m.Result == nil:
			fmt.Fprintf(w, "  %s: not analysed (%s)\n", name, m.Error)
		case len(m.Comparisons) == 0:
			fmt.Fprintf(w, "  %s: nothing to compare (one group)\n", name)
		}
		if m.Result == nil {
			continue
		}
		for _, c := range m.Comparisons {
			v := c.Verdict
			if m.Metric.Role == results.RoleGuardrail {
				if results.Harms(m.Metric, c) {
					v = "HARMED: " + v
				} else if !c.Unreliable {
					v = "no evidence of harm: " + v
				}
			}
			fmt.Fprintf(w, "  %s: %s\n", name, v)
		}
	}
	return nil
}

// metricTitle is "revenue (goal, numeric, higher is better): spend per user".
func metricTitle(m results.Metric) string {
	t := fmt.Sprintf("%s (%s, %s, %s is better)", m.Name, m.Role, m.Type, m.Direction)
	if m.Description != "" {
		t += ": " + m.Description
	}
	return t
}

// writeMetricsCSV prints one row per metric and group, the columns of a
// single analysis after the metric's.
func writeMetricsCSV(w io.Writer, res *results.MetricsResult) error {
	header := append([]string{"metric", "role", "direction", "error"}, resultsHeader...)
	var rows [][]string
	for _, m := range res.Metrics {
		lead := []string{m.Metric.Name, m.Metric.Role, m.Metric.Direction, m.Error}
		if m.Result == nil {
			rows = append(rows, append(lead, make([]string, len(resultsHeader))...))
			continue
		}
		for _, row := range resultsRows(m.Result) {
			rows = append(rows, append(append([]string(nil), lead...), row...))
		}
	}
	return writeCSV(w, header, rows)
}

// statusName is the experiment's status, or "unknown".
func statusName(r *results.Result) string {
	if r.Status == "" {
		return "unknown"
	}
	return string(r.Status)
}

// runtimeText is the runtime: "3d 4h 05m (2026-03-02T09:00:00Z to now)".
func runtimeText(r *results.Result) string {
	if r.FirstEnrolledAt == nil || r.RuntimeEnd == nil {
		return "- (nobody enrolled yet)"
	}
	d := time.Duration(r.RuntimeSeconds * float64(time.Second)).Round(time.Minute)
	days, rest := d/(24*time.Hour), d%(24*time.Hour)
	text := fmt.Sprintf("%dh %02dm", rest/time.Hour, (rest%time.Hour)/time.Minute)
	if days > 0 {
		text = fmt.Sprintf("%dd %s", days, text)
	}
	end := "now, " + r.RuntimeEnd.Format(time.RFC3339)
	if r.Status == assign.StatusStopped {
		end = "its stop, " + r.RuntimeEnd.Format(time.RFC3339)
	}
	return fmt.Sprintf("%s (first enrollment %s to %s)", text, r.FirstEnrolledAt.Format(time.RFC3339), end)
}

// methodText names the method of the verdicts.
func methodText(r *results.Result) string {
	if r.Method == stats.MethodSequential {
		h := int64(stats.DefaultSequentialHorizon)
		if len(r.Comparisons) > 0 && r.Comparisons[0].Sequential != nil {
			h = r.Comparisons[0].Sequential.Horizon
		}
		return fmt.Sprintf("sequential (mSPRT, always-valid p-values and confidence sequences, tuned for %d users; valid however often you look)", h)
	}
	return "fixed (fixed-horizon test: valid for one look at the planned sample)"
}

// detectableLevel names the level of each comparison of the detectable
// effect: 1 - confidence, divided among the comparisons.
func detectableLevel(r *results.Result) string {
	alpha := 1 - r.ConfidenceLevel
	if n := len(r.Comparisons); n > 1 {
		return fmt.Sprintf("alpha %s per comparison (%s / %d)", strconv.FormatFloat(alpha/float64(n), 'g', 4, 64), strconv.FormatFloat(alpha, 'g', 4, 64), n)
	}
	return "alpha " + strconv.FormatFloat(alpha, 'g', 4, 64)
}

// resultsHeader is the CSV header of results: one row per group, the
// comparison columns empty on the control's row.
var resultsHeader = []string{"experiment_id", "outcome", "group", "control", "probability", "n", "expected_n",
	"conversions", "rate", "mean", "sd", "difference", "difference_ci_lower", "difference_ci_upper",
	"relative_lift", "relative_lift_ci_lower", "relative_lift_ci_upper", "test", "statistic", "df",
	"p_value", "adjusted_p_value", "significant", "unreliable", "verdict", "detectable_effect", "srm_chi_square", "srm_df", "srm_p_value", "srm_mismatch",
	"method", "sequential_p_value", "sequential_adjusted_p_value", "sequential_ci_lower", "sequential_ci_upper", "status", "runtime_seconds"}

func writeResultsCSV(w io.Writer, r *results.Result) error {
	return writeCSV(w, resultsHeader, resultsRows(r))
}

// resultsRows are the CSV rows of one analysis, one per group.
func resultsRows(r *results.Result) [][]string {
	byGroup := map[string]stats.Comparison{}
	for _, c := range r.Comparisons {
		byGroup[c.Group] = c
	}
	var rows [][]string
	for _, g := range r.Groups {
		conv := ""
		if g.Conversions != nil {
			conv = strconv.FormatInt(*g.Conversions, 10)
		}
		row := []string{r.ExperimentID, r.Outcome, g.Name, strconv.FormatBool(g.Control), fullFloat(g.Probability),
			strconv.FormatInt(g.N, 10), fullFloat(float64(g.ExpectedN)), conv, fullFloat(float64(g.Rate)),
			fullFloat(float64(g.Mean)), fullFloat(float64(g.SD))}
		if c, ok := byGroup[g.Name]; ok {
			row = append(row, fullFloat(float64(c.Difference)), fullFloat(float64(c.DifferenceCI.Lower)), fullFloat(float64(c.DifferenceCI.Upper)),
				fullFloat(float64(c.RelativeLift)), fullFloat(float64(c.RelativeLiftCI.Lower)), fullFloat(float64(c.RelativeLiftCI.Upper)),
				c.Test, fullFloat(float64(c.Statistic)), fullFloat(float64(c.DF)), fullFloat(float64(c.PValue)),
				fullFloat(float64(c.AdjustedPValue)), strconv.FormatBool(c.Significant), strconv.FormatBool(c.Unreliable), c.Verdict,
				fullFloat(float64(c.DetectableEffect)))
		} else {
			row = append(row, make([]string, 15)...)
		}
		row = append(row, fullFloat(float64(r.SRM.ChiSquare)), strconv.Itoa(r.SRM.DF), fullFloat(float64(r.SRM.PValue)), strconv.FormatBool(r.SRM.Mismatch), r.Method)
		if c, ok := byGroup[g.Name]; ok && c.Sequential != nil {
			s := c.Sequential
			row = append(row, fullFloat(float64(s.PValue)), fullFloat(float64(s.AdjustedPValue)), fullFloat(float64(s.CI.Lower)), fullFloat(float64(s.CI.Upper)))
		} else {
			row = append(row, "", "", "", "")
		}
		row = append(row, string(r.Status), fullFloat(r.RuntimeSeconds))
		rows = append(rows, row)
	}
	return rows
}
