package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/client"
	"github.com/assign-dev/assign/results"
	"github.com/assign-dev/assign/results/resultstest"
	"github.com/assign-dev/assign/stats"
	"github.com/assign-dev/assign/warehouse"
)

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(want) {
		if !math.IsNaN(got) {
			t.Errorf("%s=%v, want undefined", name, got)
		}
		return
	}
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s=%.12g, want %.12g (±%g)", name, got, want, tol)
	}
}

// fixtureNow ends the runtime of the running fixtures, for outputs that do
// not depend on when the test runs.
const fixtureNow = "2026-03-05T12:00:00Z"

// cell parses a CSV cell; empty is undefined.
func cell(t *testing.T, row map[string]string, col string) float64 {
	t.Helper()
	if row[col] == "" {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(row[col], 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", col, row[col], err)
	}
	return f
}

// checkJSON compares every number of the JSON output with the reference.
func checkJSON(t *testing.T, r Run, ref *resultstest.Reference) {
	t.Helper()
	var res results.Result
	r.json(t, &res)
	if res.ExperimentID != ref.Fixture.ExperimentID || res.Control != ref.Control {
		t.Fatalf("experiment %q control %q", res.ExperimentID, res.Control)
	}
	for i, want := range ref.Groups {
		g := res.Groups[i]
		if g.Name != want.Name || g.N != want.N || (want.Conversions >= 0 && *g.Conversions != want.Conversions) {
			t.Errorf("group %d: %+v, want %+v", i, g, want)
		}
		near(t, g.Name+".rate", float64(g.Rate), want.Rate, 1e-12)
		near(t, g.Name+".mean", float64(g.Mean), want.Mean, 1e-12)
		near(t, g.Name+".sd", float64(g.SD), want.SD, 1e-12)
	}
	for i, want := range ref.Comparisons {
		c := res.Comparisons[i]
		near(t, c.Group+".difference", float64(c.Difference), want.Difference, 1e-12)
		near(t, c.Group+".lower", float64(c.DifferenceCI.Lower), want.Lower, min(want.Tol, 5e-8))
		near(t, c.Group+".upper", float64(c.DifferenceCI.Upper), want.Upper, min(want.Tol, 5e-8))
		near(t, c.Group+".lift", float64(c.RelativeLift), want.Lift, 1e-12)
		near(t, c.Group+".lift_lower", float64(c.RelativeLiftCI.Lower), want.LiftLower, 1e-9)
		near(t, c.Group+".lift_upper", float64(c.RelativeLiftCI.Upper), want.LiftUpper, 1e-9)
		near(t, c.Group+".statistic", float64(c.Statistic), want.Statistic, want.Tol*10)
		near(t, c.Group+".df", float64(c.DF), want.DF, want.Tol)
		near(t, c.Group+".p", float64(c.PValue), want.PValue, min(want.Tol, 5e-6))
		near(t, c.Group+".adjusted_p", float64(c.AdjustedPValue), want.AdjustedPValue, min(want.Tol, 5e-6))
		if c.Verdict != want.Verdict {
			t.Errorf("verdict=%q, want %q", c.Verdict, want.Verdict)
		}
	}
	near(t, "srm.chi_square", float64(res.SRM.ChiSquare), ref.SRM.ChiSquare, 1e-9)
	near(t, "srm.p_value", float64(res.SRM.PValue), ref.SRM.PValue, 1e-9*ref.SRM.PValue+1e-300)
	if res.SRM.Mismatch != ref.SRM.Mismatch || res.SRM.DF != ref.SRM.DF {
		t.Errorf("srm=%+v, want %+v", res.SRM, ref.SRM)
	}
}

// checkCSV compares every number of the CSV output with the reference.
func checkCSV(t *testing.T, r Run, ref *resultstest.Reference) {
	t.Helper()
	rows := r.csv(t)
	if len(rows) != len(ref.Groups) {
		t.Fatalf("%d rows, want %d", len(rows), len(ref.Groups))
	}
	comps := map[string]resultstest.ComparisonRef{}
	for _, c := range ref.Comparisons {
		comps[c.Group] = c
	}
	for i, want := range ref.Groups {
		row := rows[i]
		if row["group"] != want.Name || row["n"] != strconv.FormatInt(want.N, 10) || row["control"] != strconv.FormatBool(want.Name == ref.Control) {
			t.Errorf("row %d: %v", i, row)
		}
		if want.Conversions >= 0 && row["conversions"] != strconv.FormatInt(want.Conversions, 10) {
			t.Errorf("%s conversions=%q", want.Name, row["conversions"])
		}
		near(t, want.Name+".rate", cell(t, row, "rate"), want.Rate, 1e-12)
		near(t, want.Name+".mean", cell(t, row, "mean"), want.Mean, 1e-12)
		near(t, want.Name+".sd", cell(t, row, "sd"), want.SD, 1e-12)
		c, ok := comps[want.Name]
		if !ok {
			if row["difference"] != "" || row["p_value"] != "" {
				t.Errorf("control row has comparison cells: %v", row)
			}
		} else {
			near(t, c.Group+".difference", cell(t, row, "difference"), c.Difference, 1e-12)
			near(t, c.Group+".lower", cell(t, row, "difference_ci_lower"), c.Lower, min(c.Tol, 5e-8))
			near(t, c.Group+".upper", cell(t, row, "difference_ci_upper"), c.Upper, min(c.Tol, 5e-8))
			near(t, c.Group+".lift", cell(t, row, "relative_lift"), c.Lift, 1e-12)
			near(t, c.Group+".lift_lower", cell(t, row, "relative_lift_ci_lower"), c.LiftLower, 1e-9)
			near(t, c.Group+".lift_upper", cell(t, row, "relative_lift_ci_upper"), c.LiftUpper, 1e-9)
			near(t, c.Group+".statistic", cell(t, row, "statistic"), c.Statistic, c.Tol*10)
			near(t, c.Group+".df", cell(t, row, "df"), c.DF, c.Tol)
			near(t, c.Group+".p", cell(t, row, "p_value"), c.PValue, min(c.Tol, 5e-6))
			near(t, c.Group+".adjusted_p", cell(t, row, "adjusted_p_value"), c.AdjustedPValue, min(c.Tol, 5e-6))
			if row["verdict"] != c.Verdict || row["significant"] != strconv.FormatBool(c.Significant) {
				t.Errorf("verdict %q significant %q", row["verdict"], row["significant"])
			}
		}
		near(t, "srm_chi_square", cell(t, row, "srm_chi_square"), ref.SRM.ChiSquare, 1e-9)
		near(t, "srm_p_value", cell(t, row, "srm_p_value"), ref.SRM.PValue, 1e-9*ref.SRM.PValue+1e-300)
		if row["srm_mismatch"] != strconv.FormatBool(ref.SRM.Mismatch) {
			t.Errorf("srm_mismatch=%q", row["srm_mismatch"])
		}
	}
}

// mustContain fails unless s holds every want.
func mustContain(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("output lacks %q:\n%s", w, s)
		}
	}
}

func resultsArgs(path, id, sql string, extra ...string) []string {
	// The fixed-horizon test, whose published references these are (the
	// fixtures run: the default would be sequential).
	return append([]string{"results", "--warehouse-url", path, "--outcome-sql", sql, "--outcome-time-column", "ordered_at",
		"--method", "fixed", "--now", fixtureNow, id}, extra...)
}

// The published R prop.test example: every printed number, in every format.
func TestResultsCommand_Binary(t *testing.T) {
	ref := resultstest.PropTest()
	path := resultstest.LoadDuckDB(t, ref.Fixture)
	args := resultsArgs(path, "prop-test", resultstest.BinarySQL)

	checkJSON(t, run(t, nil, "", append(args, "--output", "json")...).mustOK(t), ref)
	checkCSV(t, run(t, nil, "", append(args, "--output", "csv")...).mustOK(t), ref)

	// The table rounds for people: 39/128 = 30.47%, 94/214 = 43.93%, the
	// published CI 0.03074072..0.23838896 as pp, X-squared 6.1026 = 2.470²,
	// p = 0.01350.
	r := run(t, map[string]string{"TERMINAL": "1"}, "", args...).mustOK(t)
	mustContain(t, r.Stdout,
		"Experiment: prop-test", "converted (binary), counted from events with ordered_at > enrolled_at",
		"Control:    old_journey    Confidence: 95%    Correction: none",
		"old_journey (control)", "128", "39", "30.47%", "new_journey", "214", "94", "43.93%",
		"+13.46", "[+3.07, +23.84]", "+44.16%", "[+6.55%, +95.06%]", "2.470", "0.0135",
		"Sample ratio: chi-square 0.0008, df 1, p=0.9777: no evidence of mismatch",
		"Verdict:\n  "+ref.Comparisons[0].Verdict)
	if strings.Contains(r.Stdout, "MISMATCH") || r.Stderr != "" {
		t.Fatalf("unexpected mismatch or stderr %q", r.Stderr)
	}
	// The SRM p printed above, from the closed-form reference.
	if got := pValue(ref.SRM.PValue); got != "0.9777" {
		t.Fatalf("reference SRM p=%s", got)
	}
}

// R's sleep data: Welch numbers in every format.
func TestResultsCommand_Numeric(t *testing.T) {
	ref := resultstest.Sleep()
	path := resultstest.LoadDuckDB(t, ref.Fixture)
	args := resultsArgs(path, "sleep", resultstest.NumericSQL)
	checkJSON(t, run(t, nil, "", append(args, "--output", "json")...).mustOK(t), ref)
	checkCSV(t, run(t, nil, "", append(args, "--output", "csv")...).mustOK(t), ref)
	// Published: t = 1.8608, df = 17.776, p = 0.07939, CI -0.2054832 3.3654832,
	// means 0.75 and 2.33.
	r := run(t, nil, "", append(args, "--output", "table")...).mustOK(t)
	mustContain(t, r.Stdout, "value (numeric)", "MEAN", "SD", "0.75", "2.33", "1.78901", "2.00225",
		"+1.58", "[-0.205483, +3.36548]", "+210.67%", "1.861", "17.8", "0.0794", ref.Comparisons[0].Verdict)
}

// Holm and a loud sample ratio mismatch: in the table, and on stderr for
// the machine formats.
func TestResultsCommand_HolmAndSRM(t *testing.T) {
	ref := resultstest.Holm()
	path := resultstest.LoadDuckDB(t, ref.Fixture)
	args := resultsArgs(path, "holm", resultstest.BinarySQL)
	r := run(t, nil, "", append(args, "--output", "json")...).mustOK(t)
	checkJSON(t, r, ref)
	mustContain(t, r.Stderr, "WARNING: SAMPLE RATIO MISMATCH")
	checkCSV(t, run(t, nil, "", append(args, "--output", "csv")...).mustOK(t), ref)

	r = run(t, nil, "", append(args, "--output", "table")...).mustOK(t)
	mustContain(t, r.Stdout, strings.Repeat("!", 72), "!!! SAMPLE RATIO MISMATCH: chi-square 111.11, df 2, p<0.0001",
		"Correction: holm", "P (HOLM)", "0.0432", "0.0385", "0.0769",
		"Sample ratio: chi-square 111.1111, df 2, p=7.46e-25: MISMATCH",
		ref.Comparisons[0].Verdict, ref.Comparisons[1].Verdict)
	if got := pValue(ref.SRM.PValue); got != "7.46e-25" {
		t.Fatalf("reference SRM p=%s", got)
	}
}

// Options, errors and the fallback to assignd for the configured groups.
func TestResultsCommand_Options(t *testing.T) {
	ref := resultstest.PropTest()
	path := resultstest.LoadDuckDB(t, ref.Fixture)

	t.Run("ControlAndFile", func(t *testing.T) {
		var res results.Result
		run(t, nil, resultstest.BinarySQL, "results", "--warehouse-url", path, "--outcome-file", "-",
			"--outcome-time-column", "ordered_at", "--control", "new_journey", "--confidence", "0.99", "prop-test").mustOK(t).json(t, &res)
		if res.Control != "new_journey" || res.ConfidenceLevel != 0.99 || res.Comparisons[0].Group != "old_journey" {
			t.Fatalf("res=%+v", res)
		}
		near(t, "p", float64(res.Comparisons[0].PValue), 0.01350, 5e-6)
		if res.Comparisons[0].Significant {
			t.Fatal("p=0.0135 significant at 99%")
		}
	})
	t.Run("NoTimeColumnNote", func(t *testing.T) {
		r := run(t, nil, "", "results", "--warehouse-url", path, "--outcome-sql", resultstest.BinarySQL, "--output", "table", "prop-test").mustOK(t)
		mustContain(t, r.Stdout, "counted from every event (no time column)", "Notes:", "outcomes from before each user's enrollment count too")
	})
	t.Run("Errors", func(t *testing.T) {
		run(t, nil, "", "results", "prop-test").mustCode(t, ExitUsage, "exactly one of --outcome-sql, --outcome-file and --metrics")
		run(t, nil, "", "results", "--outcome-sql", "x", "--confidence", "95", "prop-test").mustCode(t, ExitUsage, "--confidence")
		run(t, nil, "", "results", "--outcome-sql", "x").mustCode(t, ExitUsage, "want 1 argument(s)")
		run(t, nil, "", resultsArgs(path, "prop-test", "SELECT user_id, ordered_at FROM orders")...).mustCode(t, ExitError, "converted")
		run(t, nil, "", resultsArgs(t.TempDir()+"/none.duckdb", "prop-test", resultstest.BinarySQL)...).mustCode(t, ExitError, "no DuckDB file")
		run(t, nil, "", resultsArgs(path, "unknown", resultstest.BinarySQL)...).mustCode(t, ExitError, "not in the warehouse experiments table")
	})

	// The exporter has not written the experiment's configuration yet:
	// with an admin token the probabilities come from assignd.
	t.Run("GroupsFromAPI", func(t *testing.T) {
		f := *ref.Fixture
		f.Experiments = nil
		for _, e := range ref.Fixture.Experiments {
			if e.ExperimentID != "prop-test" {
				f.Experiments = append(f.Experiments, e)
			}
		}
		path := resultstest.LoadDuckDB(t, &f)
		srv, env := serverEnv(t)
		if _, err := srv.Client.CreateExperiment(t.Context(), client.ExperimentCreate{ID: "prop-test", MaxSampleSize: 1000, Groups: ref.Fixture.Groups}); err != nil {
			t.Fatal(err)
		}
		checkJSON(t, run(t, env, "", resultsArgs(path, "prop-test", resultstest.BinarySQL)...).mustOK(t), ref)

		// The same for a metrics file, whose one metric is the query above.
		mf := filepath.Join(t.TempDir(), "metrics.yaml")
		if err := os.WriteFile(mf, []byte("metrics:\n  - name: ordered\n    type: binary\n    time_column: "+resultstest.TimeColumn+"\n    sql: "+resultstest.BinarySQL+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var res results.MetricsResult
		run(t, env, "", "results", "--warehouse-url", path, "--method", "fixed", "--metrics", mf, "prop-test").mustOK(t).json(t, &res)
		if len(res.Metrics) != 1 || res.Metrics[0].Result == nil || res.Metrics[0].Groups[0].N != ref.Groups[0].N || res.Metrics[0].Groups[1].N != ref.Groups[1].N {
			t.Fatalf("metrics run from assignd's groups: %+v", res)
		}
		near(t, "p_value", float64(res.Metrics[0].Comparisons[0].PValue), ref.Comparisons[0].PValue, 5e-6)
	})
}

// Probabilities changed mid-experiment (50/50, then 90/10): the check weighs
// the periods, the note gives the flags for one period, and the flags work.
func TestResultsCommand_ProbabilitiesChanged(t *testing.T) {
	f, _ := resultstest.NewRamp("ramp")
	path := resultstest.LoadDuckDB(t, f)
	args := resultsArgs(path, "ramp", resultstest.BinarySQL, "--output", "table")

	// 1,410/590 against 1,400/600: chi-square 10²/1400 + 10²/600 = 0.2381.
	r := run(t, nil, "", args...).mustOK(t)
	mustContain(t, r.Stdout, "control (control)  0.9", "1410", "1400.0", "600.0",
		"Sample ratio: chi-square 0.2381, df 1, p=0.6256: no evidence of mismatch", "weighs each period's probabilities",
		"--enrolled-from 2026-03-02T09:16:39.5Z")
	if strings.Contains(r.Stdout, "Enrolled:") {
		t.Fatalf("no window given, yet:\n%s", r.Stdout)
	}

	// After the change alone: 890/110 against 900/100, chi-square
	// 10²/900 + 10²/100 = 1.1111.
	r = run(t, nil, "", append(args, "--enrolled-from", "2026-03-02T09:16:39.5Z")...).mustOK(t)
	mustContain(t, r.Stdout, "Enrolled:   from 2026-03-02T09:16:39.5Z", "890", "900.0", "110", "100.0",
		"Sample ratio: chi-square 1.1111, df 1", "every user analysed enrolled under those of version 2")
	var res results.Result
	run(t, nil, "", resultsArgs(path, "ramp", resultstest.BinarySQL, "--output", "json", "--enrolled-before", "2026-03-02T09:16:39.5Z")...).mustOK(t).json(t, &res)
	if res.Groups[0].N != 520 || res.Groups[1].N != 480 || res.EnrolledBefore == nil || res.EnrolledFrom != nil {
		t.Fatalf("before the change: %+v, window %v %v", res.Groups, res.EnrolledFrom, res.EnrolledBefore)
	}
	// A date is midnight UTC: every user enrolled on 2026-03-02.
	res = results.Result{}
	run(t, nil, "", resultsArgs(path, "ramp", resultstest.BinarySQL, "--output", "json", "--enrolled-from", "2026-03-02",
		"--enrolled-before", "2026-03-03")...).mustOK(t).json(t, &res)
	if res.Groups[0].N != 1410 || res.Groups[1].N != 590 || !res.EnrolledFrom.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("the whole day: %+v from %v", res.Groups, res.EnrolledFrom)
	}

	run(t, nil, "", append(args, "--enrolled-from", "yesterday")...).mustCode(t, ExitUsage, "RFC 3339")
	run(t, nil, "", append(args, "--enrolled-from", "2026-03-03", "--enrolled-before", "2026-03-02")...).mustCode(t, ExitUsage, "--enrolled-before must be after")
}

// The small sample, 4/6 against 8/8 conversions: Fisher's exact
// test (two-sided p = 15/91 = 0.1648, R's fisher.test; exact fraction
// from Python's fractions, see stats/power_test.go), named in the table, the
// verdict, the JSON and a note; no z.
func TestResultsCommand_SmallSample(t *testing.T) {
	f, _ := resultstest.NewBinary("small", []resultstest.GroupSpec{
		{Name: "control", Probability: 0.5, N: 6, Conversions: 4},
		{Name: "treatment", Probability: 0.5, N: 8, Conversions: 8},
	})
	path := resultstest.LoadDuckDB(t, f)
	args := resultsArgs(path, "small", resultstest.BinarySQL)
	var res results.Result
	run(t, nil, "", append(args, "--output", "json")...).mustOK(t).json(t, &res)
	c := res.Comparisons[0]
	near(t, "p", float64(c.PValue), 15.0/91, 1e-12)
	if c.Test != "Fisher's exact test" || c.Significant || !math.IsNaN(float64(c.Statistic)) {
		t.Fatalf("comparison %+v", c)
	}
	r := run(t, nil, "", append(args, "--output", "table")...).mustOK(t)
	mustContain(t, r.Stdout, "0.1648", "p=0.16 (Fisher's exact test)", "Notes:",
		"treatment vs control: an expected cell count is 0.857 (below 5): Fisher's exact test instead of the z-test")
}

// Under a failed sample-ratio check no verdict names a winner: 2000/2000
// users against a configured 40/60 split (chi-square 166.7, df 1), with 200
// against 300 conversions, which alone would be "treatment beats control"
// (z = 4.78). The table, the JSON and the CSV say "unreliable" and
// significant is false.
func TestResultsCommand_SRMVerdict(t *testing.T) {
	f, _ := resultstest.NewBinary("srm", []resultstest.GroupSpec{
		{Name: "control", Probability: 0.4, N: 2000, Conversions: 200},
		{Name: "treatment", Probability: 0.6, N: 2000, Conversions: 300},
	})
	path := resultstest.LoadDuckDB(t, f)
	args := resultsArgs(path, "srm", resultstest.BinarySQL)
	const verdict = "unreliable: sample ratio mismatch; treatment vs control: +5.0 pp (+50.0%), 95% CI +3.0 to +7.0 pp, p<0.0001"
	var res results.Result
	r := run(t, nil, "", append(args, "--output", "json")...).mustOK(t)
	r.json(t, &res)
	c := res.Comparisons[0]
	if !res.SRM.Mismatch || c.Significant || !c.Unreliable || c.Verdict != verdict {
		t.Fatalf("srm %+v comparison %+v", res.SRM, c)
	}
	mustContain(t, r.Stderr, "WARNING: SAMPLE RATIO MISMATCH")
	rows := run(t, nil, "", append(args, "--output", "csv")...).mustOK(t).csv(t)
	if rows[1]["significant"] != "false" || rows[1]["unreliable"] != "true" || rows[1]["verdict"] != verdict {
		t.Fatalf("csv %v", rows[1])
	}
	out := run(t, nil, "", append(args, "--output", "table")...).mustOK(t).Stdout
	mustContain(t, out, "Verdict:\n  "+verdict, ": MISMATCH (see above): every verdict is unreliable")
	if strings.Contains(out, "beats") {
		t.Fatalf("a winner under a mismatch:\n%s", out)
	}
}

// The method, the status and runtime, and the peeking warning: the running
// prop.test fixture defaults to sequential testing (the mixture tuned for
// its cap of 100,000); --method fixed on it warns loudly, on stderr too for
// JSON; a stopped experiment defaults to fixed.
func TestResultsCommand_Method(t *testing.T) {
	ref := resultstest.PropTest()
	path := resultstest.LoadDuckDB(t, ref.Fixture)
	args := []string{"results", "--warehouse-url", path, "--outcome-sql", resultstest.BinarySQL, "--outcome-time-column", "ordered_at",
		"--now", fixtureNow, "prop-test"}
	want := stats.SequentialBinary(stats.Binary{N: 128, Conversions: 39}, stats.Binary{N: 214, Conversions: 94}, 100000, 0.95)
	// The effect the sequential test detects at this look (alpha as Analyze computes it, 1 - level).
	want.DetectableEffect = stats.Float(stats.SequentialDetectableProportion(128, 214, 39.0/128, 100000, 1-0.95, 1-0.95, 0.8) - 39.0/128)

	var res results.Result
	r := run(t, nil, "", append(args, "--output", "json")...).mustOK(t)
	r.json(t, &res)
	c := res.Comparisons[0]
	if res.Method != stats.MethodSequential || res.Status != "running" || *c.Sequential != want || c.Significant ||
		res.PeekingWarning != "" || r.Stderr != "" || res.RuntimeSeconds <= 0 {
		t.Fatalf("default: method %q status %q sequential %+v, want %+v; significant %v warning %q stderr %q",
			res.Method, res.Status, c.Sequential, want, c.Significant, res.PeekingWarning, r.Stderr)
	}
	first := res.FirstEnrolledAt.Format(time.RFC3339)
	runtime := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC).Sub(*res.FirstEnrolledAt).Round(time.Minute)
	days, rest := runtime/(24*time.Hour), runtime%(24*time.Hour)
	statusLine := fmt.Sprintf("Status:     running    Runtime: %dd %dh %02dm (first enrollment %s to now, 2026-03-05T12:00:00Z)",
		days, rest/time.Hour, (rest%time.Hour)/time.Minute, first)
	table := run(t, nil, "", append(args, "--output", "table")...).mustOK(t).Stdout
	mustContain(t, table, statusLine,
		"Method:     sequential (mSPRT, always-valid p-values and confidence sequences, tuned for 100000 users; valid however often you look)",
		"95% CS (ALWAYS VALID)", fmt.Sprintf("[%+.2f, %+.2f]", float64(want.CI.Lower)*100, float64(want.CI.Upper)*100),
		fmt.Sprintf("%.4f", float64(want.PValue)),
		"no significant difference between new_journey and old_journey: +13.5 pp (+44.2%), 95% CS ",
		"Detectable with these users (80% power, alpha 0.05, by the sequential test at this look):\n  new_journey vs old_journey: "+pp(float64(want.DetectableEffect))+" pp")
	if strings.Contains(table, "FIXED-HORIZON") {
		t.Errorf("sequential run warns about the fixed-horizon test:\n%s", table)
	}
	rows := run(t, nil, "", append(args, "--output", "csv")...).mustOK(t).csv(t)
	if rows[1]["method"] != "sequential" || rows[1]["status"] != "running" || cell(t, rows[1], "sequential_p_value") != float64(want.PValue) {
		t.Errorf("csv %v", rows[1])
	}

	// Fixed on the running experiment: a loud warning, in the table and on
	// stderr for JSON.
	warning := "FIXED-HORIZON TEST BEFORE THE PLANNED SAMPLE: the experiment is running with 342 of its 100000 planned users"
	table = run(t, nil, "", append(args, "--method", "fixed", "--output", "table")...).mustOK(t).Stdout
	mustContain(t, table, "Method:     fixed (fixed-horizon test", "!!! "+warning, "new_journey beats old_journey", statusLine)
	r = run(t, nil, "", append(args, "--method", "fixed", "--output", "json")...).mustOK(t)
	mustContain(t, r.Stderr, "assignctl: WARNING: "+warning)
	run(t, nil, "", append(args, "--method", "bayes")...).mustCode(t, ExitUsage, "--method must be sequential or fixed")

	// Stopped: fixed by default, no warning, the runtime ends at the stop.
	stopped := resultstest.T0.Add(48 * time.Hour)
	e := &assign.Experiment{ID: "prop-test", MaxSampleSize: 100000, SamplingProbability: 1, Groups: ref.Fixture.Groups,
		Status: assign.StatusStopped, Version: 2, CreatedAt: resultstest.T0.Add(-time.Hour), UpdatedAt: stopped}
	ref.Fixture.Experiments = append(ref.Fixture.Experiments, warehouse.NewExperimentRow(e, "admin", stopped))
	args[2] = resultstest.LoadDuckDB(t, ref.Fixture)
	table = run(t, nil, "", append(args, "--output", "table")...).mustOK(t).Stdout
	mustContain(t, table, "Status:     stopped    Runtime: ", "to its stop, 2026-03-04T09:00:00Z)", "Method:     fixed (fixed-horizon test",
		"Verdict:\n  "+ref.Comparisons[0].Verdict)
	if strings.Contains(table, "FIXED-HORIZON") {
		t.Errorf("stopped experiment warns:\n%s", table)
	}
}

// A metrics file in CSV: one row per metric and group, the metric's
// columns first; a metric that cannot be analysed is reported, its row
// carries the error, and the command exits 1 after printing the others.
func TestResultsCommand_MetricsCSV(t *testing.T) {
	ref := resultstest.PropTest()
	path := resultstest.LoadDuckDB(t, ref.Fixture)
	mf := filepath.Join(t.TempDir(), "metrics.yaml")
	body := "metrics:\n  - name: ordered\n    type: binary\n    time_column: ordered_at\n    sql: " + resultstest.BinarySQL +
		"\n  - name: broken\n    type: numeric\n    sql: SELECT user_id, nothing FROM orders\n"
	if err := os.WriteFile(mf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "", "results", "--warehouse-url", path, "--method", "fixed", "--now", fixtureNow, "--metrics", mf, "--output", "csv", "prop-test")
	r.mustCode(t, ExitError, "1 of 2 metrics could not be analysed: broken: ")
	rows, err := csv.NewReader(strings.NewReader(r.Stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][0] != "metric" || rows[0][4] != "experiment_id" {
		t.Fatalf("rows %q", rows)
	}
	for i, want := range []string{"ordered", "ordered", "broken"} {
		if rows[i+1][0] != want {
			t.Errorf("row %d is metric %q, want %q", i+1, rows[i+1][0], want)
		}
	}
	if rows[1][6] != ref.Groups[0].Name || rows[3][3] == "" {
		t.Errorf("group column %q, broken error %q", rows[1][6], rows[3][3])
	}
}
