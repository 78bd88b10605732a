package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/client/clienttest"
	"github.com/assign-dev/assign/exporter"
	"github.com/assign-dev/assign/results"
	"github.com/assign-dev/assign/stats"
	"github.com/assign-dev/assign/warehouse/duckdb"
)

// The id of the seed's shipping-address experiment.
const walkthroughID = "f380739f-62f3-4316-8acf-93ed5744cb9e"

// z975 is the 0.975 quantile of the standard normal, as printed in every
// table of it (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.1): 1.959963984540054.
const z975 = 1.959963984540054

// TestWalkthrough runs docs/walkthrough.md's core path in-process: create
// the experiment, enroll the sample users through the API with signed
// tokens, export to a DuckDB warehouse with the exporter, load the orders
// the users placed, run results, read the verdict, roll the winner out.
//
// Each experiment gets a random salt at creation, so the split of the
// sample users differs from run to run. The reference numbers are therefore
// computed here from the raw data, independently of the code under test:
// each user's group from the Redis member record, whether they convert from
// the sample users file (not from the orders file or any SQL), and the
// statistics from their textbook closed forms with math.Erfc (no gonum, no
// package stats).
func TestWalkthrough(t *testing.T) {
	srv, env := serverEnv(t)
	dir := t.TempDir()
	wh := filepath.Join(dir, "assign.duckdb")
	env["ASSIGN_WAREHOUSE_URL"] = wh
	usersFile := filepath.Join("..", "..", "examples", "shipping-address", "users.csv")
	ordersFile := filepath.Join(dir, "orders.csv")

	// 0. Plan the cap: the users needed to detect +3.5 pp on the old
	// journey's 10.5% with 80% power at alpha 0.05 (R's power.prop.test:
	// n = 1376.3 per group, checked in stats' plan tests).
	var plan stats.Plan
	run(t, env, "", "plan", "--baseline", "10.5%", "--effect", "3.5pp", "--sampling", "0.9").mustOK(t).json(t, &plan)
	if plan.Total != 2754 || plan.TotalBeforeSampling != 3060 {
		t.Fatalf("plan: total %d (%d before sampling), want 2754 (3060)", plan.Total, plan.TotalBeforeSampling)
	}
	maxSample := plan.Total

	// 1. Create the experiment with that cap.
	run(t, env, "", "create", "--id", walkthroughID, "--max", strconv.FormatInt(maxSample, 10), "--sampling", "0.9",
		"--group", "old_journey=0.5", "--group", "new_journey=0.5", "--eligible", "first_order=true").mustOK(t)

	// 2. Enroll the sample users; they place their orders.
	var sum DemoSummary
	run(t, env, "", "demo-enroll", "--jwt-secret", clienttest.JWTSecret, "--users", usersFile,
		"--orders-out", ordersFile, walkthroughID).mustOK(t).json(t, &sum)
	if got := sum.Enrolled["old_journey"] + sum.Enrolled["new_journey"]; got != maxSample || sum.NotEnrolled["sample_full"] == 0 ||
		sum.NotEnrolled["not_eligible"] == 0 || sum.NotEnrolled["not_sampled"] == 0 {
		t.Fatalf("demo summary %+v: want the cap of %d reached and every reason seen", sum, maxSample)
	}

	// 3. The exporter moves the enrollments to the warehouse.
	exportAll(t, srv, wh, maxSample)

	// 4. Load the orders into the warehouse (the walkthrough's SQL).
	loadOrders(t, wh, ordersFile)

	// 5. Results, against the independent reference.
	ref := walkthroughReference(t, srv, usersFile, maxSample)
	for name, sql := range map[string]string{
		"LoadedTable": "SELECT user_id, ordered_at, 1 AS converted FROM orders",
		"CSVInPlace":  "SELECT user_id, ordered_at, 1 AS converted FROM read_csv('" + ordersFile + "')",
	} {
		t.Run(name, func(t *testing.T) {
			var res results.Result
			run(t, env, "", "results", "--outcome-sql", sql, "--outcome-time-column", "ordered_at",
				"--control", "old_journey", walkthroughID).mustOK(t).json(t, &res)
			ref.check(t, &res)
		})
	}
	r := run(t, env, "", "results", "--output", "table", "--outcome-sql", "SELECT user_id, ordered_at, 1 AS converted FROM orders",
		"--outcome-time-column", "ordered_at", walkthroughID).mustOK(t)
	mustContain(t, r.Stdout, ref.verdictPrefix(ref.sequentialPValue()), pct(ref.rate[0]), pct(ref.rate[1]), ": no evidence of mismatch",
		"Status:     running    Runtime: ", "Method:     sequential (mSPRT", "95% CS (ALWAYS VALID)", "always-valid p")

	// 5b. The analyst's reading a week later: the shipping-address metrics
	// file's two goal metrics (ordered, revenue capped at the 99th
	// percentile), each counting the orders within 7 days of enrolling, the
	// sequential test, Holm across both.
	// The file reads orders.csv from where it runs: here, the test's.
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "shipping-address", "metrics.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	metricsFile := filepath.Join(dir, "metrics.yaml")
	if n := strings.Count(string(example), "read_csv('orders.csv')"); n != 2 {
		t.Fatalf("the example metrics file reads orders.csv %d times, want 2", n)
	}
	if err := os.WriteFile(metricsFile, []byte(strings.ReplaceAll(string(example), "read_csv('orders.csv')", "read_csv('"+ordersFile+"')")), 0o600); err != nil {
		t.Fatal(err)
	}
	weekLater := time.Now().Add(8 * 24 * time.Hour).UTC().Format(time.RFC3339)
	var mres results.MetricsResult
	run(t, env, "", "results", "--metrics", metricsFile, "--control", "old_journey", "--now", weekLater, walkthroughID).mustOK(t).json(t, &mres)
	rev := ref.checkMetrics(t, &mres)
	r = run(t, env, "", "results", "--output", "table", "--metrics", metricsFile, "--control", "old_journey", "--now", weekLater, walkthroughID).mustOK(t)
	mustContain(t, r.Stdout, "Correction: holm across the 2 goal comparisons", "== ordered (goal, binary, higher is better)",
		"== revenue (goal, numeric, higher is better)", "Window:     7d: users whose window closed by "+weekLater+"; 0 later users left out",
		"Capped:     at the 99th percentile, "+sig(rev.capAt)+": "+strconv.Itoa(rev.capped)+" users' values lowered to it",
		pct(ref.rate[0]), pct(ref.rate[1]), sig(rev.mean[0]), sig(rev.mean[1]), sig(rev.sd[0]), sig(rev.sd[1]),
		"Verdicts:\n  ordered: "+mres.Metrics[0].Comparisons[0].Verdict+"\n  revenue: "+mres.Metrics[1].Comparisons[0].Verdict+"\n")
	t.Logf("assignctl results --metrics:\n%s", r.Stdout)

	// 6. Roll the winner out: every user now gets new_journey, and the
	// warehouse still knows who was in which group.
	run(t, env, "", "rollout", walkthroughID, "new_journey").mustOK(t)
	for user, g := range ref.group {
		if g != "old_journey" {
			continue
		}
		e, err := srv.Client.Enroll(context.Background(), clienttest.UserToken(t, user, map[string]any{"first_order": true}), walkthroughID)
		if err != nil {
			t.Fatal(err)
		} else if e.Group != "new_journey" {
			t.Fatalf("after rollout, old_journey member %s gets %q", user, e.Group)
		}
		break
	}
	var e assign.Experiment
	run(t, env, "", "show", walkthroughID).mustOK(t).json(t, &e)
	if e.Winner != "new_journey" || e.Stats.PerGroup["old_journey"] != ref.n[0] {
		t.Fatalf("after rollout: winner %q, old_journey members %d, want %d", e.Winner, e.Stats.PerGroup["old_journey"], ref.n[0])
	}
}

// exportAll runs the exporter into the DuckDB file until the streams are
// drained, then stops it (so the file is free for the analysis).
func exportAll(t *testing.T, srv *clienttest.Server, path string, rows int64) {
	t.Helper()
	sink, err := duckdb.Open(path, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ex := &exporter.Exporter{Client: srv.Redis, Keys: srv.Keys, Sink: sink, Consumer: "walkthrough",
		BatchSize: 1000, FlushInterval: 20 * time.Millisecond, RefreshInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ex.Run(ctx) }()
	deadline := time.Now().Add(2 * time.Minute) // a guard against a hang, not a timing assertion
	for {
		bl, err := ex.Backlog(context.Background())
		if err == nil && bl.Length == 0 && bl.Pending == 0 && ex.Stats().Rows >= uint64(rows) {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("exporter did not drain: backlog %+v err %v stats %+v", bl, err, ex.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

// loadOrders runs the walkthrough's load statement on the warehouse file.
func loadOrders(t *testing.T, path, orders string) {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE orders AS SELECT * FROM read_csv('` + orders + `')`); err != nil {
		t.Fatal(err)
	}
}

// walkthroughRef is the independent reference of a run.
type walkthroughRef struct {
	group  map[string]string  // user -> recorded group
	amount map[string]float64 // user -> what they spent after enrolling (absent: nothing)
	n, x   [2]int64           // old_journey, new_journey
	rate   [2]float64
	cap    float64 // the experiment's maximum sample size, the mSPRT's horizon
}

func walkthroughReference(t *testing.T, srv *clienttest.Server, usersFile string, maxSample int64) *walkthroughRef {
	t.Helper()
	f, err := os.Open(usersFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	ref := &walkthroughRef{group: map[string]string{}, amount: map[string]float64{}, cap: float64(maxSample)}
	idx := map[string]int{"old_journey": 0, "new_journey": 1}
	for _, rec := range recs[1:] {
		user, ordersWith, amount := rec[0], rec[2], rec[4]
		g, ok, err := srv.Store.MemberGroup(context.Background(), walkthroughID, user)
		if err != nil {
			t.Fatal(err)
		} else if !ok {
			continue
		}
		ref.group[user] = g
		ref.n[idx[g]]++
		if ordersWith == "both" || ordersWith == g {
			ref.x[idx[g]]++
			if ref.amount[user], err = strconv.ParseFloat(amount, 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range ref.rate {
		ref.rate[i] = float64(ref.x[i]) / float64(ref.n[i])
	}
	return ref
}

// check compares every number of the result with the textbook formulas.
func (ref *walkthroughRef) check(t *testing.T, res *results.Result) {
	t.Helper()
	ref.checkAdjusted(t, res, ref.pValue(), ref.sequentialPValue())
}

// checkAdjusted is check with the adjusted p-values expected of a family
// of metrics.
func (ref *walkthroughRef) checkAdjusted(t *testing.T, res *results.Result, adjusted, adjustedSequential float64) {
	t.Helper()
	n1, n2 := float64(ref.n[0]), float64(ref.n[1])
	x1, x2 := float64(ref.x[0]), float64(ref.x[1])
	p1, p2 := ref.rate[0], ref.rate[1]
	for i, g := range res.Groups {
		if g.N != ref.n[i] || *g.Conversions != ref.x[i] {
			t.Fatalf("%s: n=%d conversions=%d, want %d %d", g.Name, g.N, *g.Conversions, ref.n[i], ref.x[i])
		}
		near(t, g.Name+".rate", float64(g.Rate), ref.rate[i], 1e-15)
		near(t, g.Name+".expected_n", float64(g.ExpectedN), (n1+n2)/2, 1e-9)
	}
	// Wald interval (unpooled), pooled two-proportion z, log risk ratio.
	se := math.Sqrt(p1*(1-p1)/n1 + p2*(1-p2)/n2)
	pool := (x1 + x2) / (n1 + n2)
	z := (p2 - p1) / math.Sqrt(pool*(1-pool)*(1/n1+1/n2))
	sl := math.Sqrt(1/x2 - 1/n2 + 1/x1 - 1/n1)
	c := res.Comparisons[0]
	near(t, "difference", float64(c.Difference), p2-p1, 1e-12)
	near(t, "difference_ci.lower", float64(c.DifferenceCI.Lower), p2-p1-z975*se, 1e-9)
	near(t, "difference_ci.upper", float64(c.DifferenceCI.Upper), p2-p1+z975*se, 1e-9)
	near(t, "std_err", float64(c.StdErr), se, 1e-12)
	near(t, "relative_lift", float64(c.RelativeLift), p2/p1-1, 1e-12)
	near(t, "relative_lift_ci.lower", float64(c.RelativeLiftCI.Lower), math.Exp(math.Log(p2/p1)-z975*sl)-1, 1e-9)
	near(t, "relative_lift_ci.upper", float64(c.RelativeLiftCI.Upper), math.Exp(math.Log(p2/p1)+z975*sl)-1, 1e-9)
	near(t, "statistic", float64(c.Statistic), z, 1e-9)
	pz := math.Erfc(math.Abs(z) / math.Sqrt2)
	near(t, "p_value", float64(c.PValue), pz, 1e-9*pz+1e-15)
	near(t, "adjusted_p_value", float64(c.AdjustedPValue), adjusted, 1e-9*adjusted+1e-15)
	// The experiment still runs (its cap reached): the verdict is the
	// sequential test's (mSPRT, normal mixture, tuned for the cap of 3,000),
	// from its closed form (Johari et al. 2022; the mixing variance of
	// Howard et al. 2021), written here without package stats.
	v := se * se
	l := -2 * math.Log(0.05)
	tau2 := v * (n1 + n2) * (l + math.Log(l+1)) / ref.cap
	pv := math.Min(1, math.Sqrt((v+tau2)/v)*math.Exp(-(p2-p1)*(p2-p1)*tau2/(2*v*(v+tau2))))
	w := math.Sqrt(v * (v + tau2) / tau2 * (math.Log((v+tau2)/v) + l))
	if res.Method != "sequential" || res.Status != "running" || float64(res.MaximumSampleSize) != ref.cap || c.Sequential == nil {
		t.Fatalf("method %q status %q cap %d sequential %v: want sequential, running, %v", res.Method, res.Status, res.MaximumSampleSize, c.Sequential, ref.cap)
	}
	near(t, "sequential.p_value", float64(c.Sequential.PValue), pv, 1e-9*pv+1e-15)
	near(t, "sequential.ci.lower", float64(c.Sequential.CI.Lower), p2-p1-w, 1e-9)
	near(t, "sequential.ci.upper", float64(c.Sequential.CI.Upper), p2-p1+w, 1e-9)
	near(t, "sequential.adjusted_p_value", float64(c.Sequential.AdjustedPValue), adjustedSequential, 1e-9*adjustedSequential+1e-15)
	// The verdict follows the reference always-valid p-value. With the
	// sample users the new journey wins for most salts, so a random salt may
	// still land on "no significant difference": that run is right to say so.
	if want := ref.verdictPrefix(adjustedSequential); c.Significant != (adjustedSequential < 0.05) || !strings.HasPrefix(c.Verdict, want) {
		t.Fatalf("verdict %q significant %v (reference adjusted always-valid p=%g, want %q)", c.Verdict, c.Significant, adjustedSequential, want)
	}
	// SRM: chi-square with df 1 against 50/50; p = erfc(sqrt(chi²/2)).
	e := (n1 + n2) / 2
	chi := (n1-e)*(n1-e)/e + (n2-e)*(n2-e)/e
	near(t, "srm.chi_square", float64(res.SRM.ChiSquare), chi, 1e-9)
	near(t, "srm.p_value", float64(res.SRM.PValue), math.Erfc(math.Sqrt(chi/2)), 1e-9)
	if res.SRM.Mismatch != (math.Erfc(math.Sqrt(chi/2)) < 0.001) || res.SRM.DF != 1 {
		t.Fatalf("srm %+v", res.SRM)
	}
	// The effect detectable with these users at 80% power (Fleiss' formula
	// of R's power.prop.test, unequal groups): the rate q above p1 where
	// (q - p1 - z975·√(p̄(1-p̄)(1/n1+1/n2))) / √(p1(1-p1)/n1 + q(1-q)/n2) = z80,
	// p̄ = (n1 p1 + n2 q)/(n1+n2), found here by bisection with the published
	// quantile z80 = qnorm(0.8) = 0.8416212335729143 (no package stats).
	const z80 = 0.8416212335729143
	lo, hi := p1, 1.0
	for range 200 {
		q := (lo + hi) / 2
		pb := (n1*p1 + n2*q) / (n1 + n2)
		if (q-p1-z975*math.Sqrt(pb*(1-pb)*(1/n1+1/n2)))/math.Sqrt(p1*(1-p1)/n1+q*(1-q)/n2) < z80 {
			lo = q
		} else {
			hi = q
		}
	}
	near(t, "detectable_effect", float64(c.DetectableEffect), (lo+hi)/2-p1, 1e-9)
}

// pValue is the two-sided p-value of the pooled two-proportion z-test.
func (ref *walkthroughRef) pValue() float64 {
	n1, n2 := float64(ref.n[0]), float64(ref.n[1])
	pool := float64(ref.x[0]+ref.x[1]) / (n1 + n2)
	z := (ref.rate[1] - ref.rate[0]) / math.Sqrt(pool*(1-pool)*(1/n1+1/n2))
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// sequentialPValue is the always-valid p-value of the mSPRT tuned for the
// cap (as in check).
func (ref *walkthroughRef) sequentialPValue() float64 {
	n1, n2 := float64(ref.n[0]), float64(ref.n[1])
	p1, p2 := ref.rate[0], ref.rate[1]
	v := p1*(1-p1)/n1 + p2*(1-p2)/n2
	l := -2 * math.Log(0.05)
	tau2 := v * (n1 + n2) * (l + math.Log(l+1)) / ref.cap
	return math.Min(1, math.Sqrt((v+tau2)/v)*math.Exp(-(p2-p1)*(p2-p1)*tau2/(2*v*(v+tau2))))
}

// verdictPrefix is how the verdict must start for a reference p-value.
func (ref *walkthroughRef) verdictPrefix(p float64) string {
	switch {
	case p >= 0.05:
		return "no significant difference between new_journey and old_journey"
	case ref.rate[1] > ref.rate[0]:
		return "new_journey beats old_journey"
	default:
		return "new_journey is worse than old_journey"
	}
}

// revenueRef is the reference of the revenue metric.
type revenueRef struct {
	capAt    float64
	capped   int
	n        [2]float64
	mean, sd [2]float64
}

// holm2 is Holm's adjustment of two p-values (R's p.adjust(p, "holm")).
func holm2(a, b float64) (float64, float64) {
	lo, hi := math.Min(a, b), math.Max(a, b)
	adjLo := math.Min(1, 2*lo)
	adjHi := math.Min(1, math.Max(adjLo, hi))
	if a <= b {
		return adjLo, adjHi
	}
	return adjHi, adjLo
}

// checkMetrics compares every number of the metrics run with references
// computed here from the sample users file and the recorded groups: ordered
// as check does, revenue from each user's amount (0 for users who do not
// order), capped at the pooled 99th percentile (linear interpolation, R's
// quantile type 7, which percentile_cont computes), with Welch's test
// (gonum's Student t), Fieller's interval for the lift (the quadratic
// solved here), the mSPRT with the pooled variance, and Holm over the two
// goal metrics.
func (ref *walkthroughRef) checkMetrics(t *testing.T, res *results.MetricsResult) revenueRef {
	t.Helper()
	if len(res.Metrics) != 2 || res.Correction != "holm" || res.GoalComparisons != 2 || res.Failed() {
		t.Fatalf("%d metrics, correction %q, %d goal comparisons, failed %v", len(res.Metrics), res.Correction, res.GoalComparisons, res.Failed())
	}
	ordered, revenue := res.Metrics[0], res.Metrics[1]
	if ordered.Metric.Name != "ordered" || revenue.Metric.Name != "revenue" {
		t.Fatalf("metrics %q, %q", ordered.Metric.Name, revenue.Metric.Name)
	}
	for _, m := range res.Metrics {
		if m.Window != "7d" || m.WindowOpenUsers != 0 || m.TimeRule != "ordered_at > enrolled_at" {
			t.Errorf("%s: window %q, %d open, rule %q", m.Metric.Name, m.Window, m.WindowOpenUsers, m.TimeRule)
		}
	}

	// Revenue per user, capped.
	idx := map[string]int{"old_journey": 0, "new_journey": 1}
	var all []float64
	for user := range ref.group {
		all = append(all, ref.amount[user])
	}
	sort.Float64s(all)
	h := 0.99 * float64(len(all)-1)
	lo := math.Floor(h)
	var rv revenueRef
	rv.capAt = all[int(lo)] + (h-lo)*(all[int(lo)+1]-all[int(lo)])
	var sum, ss [2]float64
	values := [2][]float64{}
	for user, g := range ref.group {
		y := ref.amount[user]
		if y > rv.capAt {
			rv.capped++
			y = rv.capAt
		}
		values[idx[g]] = append(values[idx[g]], y)
	}
	for i := range values {
		rv.n[i] = float64(len(values[i]))
		for _, y := range values[i] {
			sum[i] += y
		}
		rv.mean[i] = sum[i] / rv.n[i]
		for _, y := range values[i] {
			ss[i] += (y - rv.mean[i]) * (y - rv.mean[i])
		}
		rv.sd[i] = math.Sqrt(ss[i] / (rv.n[i] - 1))
	}
	if revenue.Cap == nil || revenue.Cap.Users != int64(rv.capped) {
		t.Fatalf("cap %+v, want %d users capped", revenue.Cap, rv.capped)
	}
	near(t, "revenue.cap", float64(revenue.Cap.Value), rv.capAt, 1e-9)
	for i, g := range revenue.Groups {
		if float64(g.N) != rv.n[i] {
			t.Fatalf("revenue %s: n=%d, want %v", g.Name, g.N, rv.n[i])
		}
		near(t, "revenue."+g.Name+".mean", float64(g.Mean), rv.mean[i], 1e-9)
		near(t, "revenue."+g.Name+".sd", float64(g.SD), rv.sd[i], 1e-9)
	}
	n1, n2, m1, m2 := rv.n[0], rv.n[1], rv.mean[0], rv.mean[1]
	v1, v2 := rv.sd[0]*rv.sd[0]/n1, rv.sd[1]*rv.sd[1]/n2
	se := math.Sqrt(v1 + v2)
	df := (v1 + v2) * (v1 + v2) / (v1*v1/(n1-1) + v2*v2/(n2-1))
	st := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
	q := st.Quantile(0.975)
	tstat := (m2 - m1) / se
	pWelch := 2 * st.Survival(math.Abs(tstat))
	c := revenue.Comparisons[0]
	near(t, "revenue.difference", float64(c.Difference), m2-m1, 1e-9)
	near(t, "revenue.std_err", float64(c.StdErr), se, 1e-9)
	near(t, "revenue.df", float64(c.DF), df, 1e-6)
	near(t, "revenue.statistic", float64(c.Statistic), tstat, 1e-9)
	near(t, "revenue.p_value", float64(c.PValue), pWelch, 1e-9)
	near(t, "revenue.difference_ci.lower", float64(c.DifferenceCI.Lower), m2-m1-q*se, 1e-9)
	near(t, "revenue.difference_ci.upper", float64(c.DifferenceCI.Upper), m2-m1+q*se, 1e-9)
	near(t, "revenue.relative_lift", float64(c.RelativeLift), m2/m1-1, 1e-12)
	// Fieller: theta with (m2 - theta m1)^2 <= q^2 (v2 + theta^2 v1).
	a, b, cc := m1*m1-q*q*v1, -2*m1*m2, m2*m2-q*q*v2
	if a <= 0 {
		t.Fatalf("the control's revenue is not distinguishable from 0 (a=%v): pick other data", a)
	}
	disc := math.Sqrt(b*b - 4*a*cc)
	near(t, "revenue.relative_lift_ci.lower", float64(c.RelativeLiftCI.Lower), (-b-disc)/(2*a)-1, 1e-9)
	near(t, "revenue.relative_lift_ci.upper", float64(c.RelativeLiftCI.Upper), (-b+disc)/(2*a)-1, 1e-9)
	// mSPRT on the difference with the pooled variance, tuned for the cap.
	v := (ss[0] + ss[1]) / (n1 + n2 - 2) * (1/n1 + 1/n2)
	l := -2 * math.Log(0.05)
	tau2 := v * (n1 + n2) * (l + math.Log(l+1)) / ref.cap
	d := m2 - m1
	pSeq := math.Min(1, math.Sqrt((v+tau2)/v)*math.Exp(-d*d*tau2/(2*v*(v+tau2))))
	w := math.Sqrt(v * (v + tau2) / tau2 * (math.Log((v+tau2)/v) + l))
	near(t, "revenue.sequential.p_value", float64(c.Sequential.PValue), pSeq, 1e-9*pSeq+1e-15)
	near(t, "revenue.sequential.ci.lower", float64(c.Sequential.CI.Lower), d-w, 1e-9)
	near(t, "revenue.sequential.ci.upper", float64(c.Sequential.CI.Upper), d+w, 1e-9)
	// The detectable difference: the t-test's power (R's power.t.test,
	// checked against it in package stats), at the pooled sd.
	near(t, "revenue.detectable_effect", float64(c.DetectableEffect),
		stats.DetectableMean(n1, n2, math.Sqrt((ss[0]+ss[1])/(n1+n2-2)), 0.05, 0.8), 1e-9)

	// Holm over the two goal metrics, for both methods.
	adjOrdered, adjRevenue := holm2(ref.pValue(), pWelch)
	seqOrdered, seqRevenue := holm2(ref.sequentialPValue(), pSeq)
	ref.checkAdjusted(t, ordered.Result, adjOrdered, seqOrdered)
	near(t, "revenue.adjusted_p_value", float64(c.AdjustedPValue), adjRevenue, 1e-9*adjRevenue+1e-15)
	near(t, "revenue.sequential.adjusted_p_value", float64(c.Sequential.AdjustedPValue), seqRevenue, 1e-9*seqRevenue+1e-15)
	if c.Significant != (seqRevenue < 0.05) {
		t.Errorf("revenue significant %v, reference adjusted always-valid p %v", c.Significant, seqRevenue)
	}
	want := "no significant difference between new_journey and old_journey"
	if seqRevenue < 0.05 {
		want = "new_journey beats old_journey"
		if d < 0 {
			want = "new_journey is worse than old_journey"
		}
	}
	if !strings.HasPrefix(c.Verdict, want) {
		t.Errorf("revenue verdict %q, want %q", c.Verdict, want)
	}
	return rv
}
