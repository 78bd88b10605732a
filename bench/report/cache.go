package main

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/assign-dev/assign/loadtest"
)

// Targets of issue 14 (the answer cache), against the new-user EVALSHA
// ceiling of (1) (ceiling.csv, not the pipelined one).
const (
	cacheMixTarget = 1.0 // the 50%-returning mix with the cache on
	cacheNewTarget = 0.8 // new users only, the cache on
	alpha          = 0.05
)

// perDecision returns Redis's commands per decision of a run.
func perDecision(rep *loadtest.Report, c *loadtest.RedisCommands) float64 {
	if rep.OK == 0 {
		return math.NaN()
	}
	return float64(c.After-c.Before) / float64(rep.OK)
}

// noCacheSkipped returns why (8) did not run, or "" when it did.
func (r *Results) noCacheSkipped() string {
	switch {
	case r.NoCache == nil:
		return "this run had no cache-off part"
	case r.NoCache.Env["skipped"] != "":
		return r.NoCache.Env["skipped"]
	}
	return ""
}

func ceilingRatio(rep *loadtest.Report, ceil *RedisBenchmark) (float64, bool) {
	if rep == nil || ceil == nil || ceil.RPS <= 0 || rep.OKRate <= 0 {
		return 0, false
	}
	return rep.OKRate / ceil.RPS, true
}

// cacheVerdicts writes the Targets rows of issue 14.
func (r *Results) cacheVerdicts(w writer) {
	mix, ok := ceilingRatio(r.Max, r.Ceiling)
	if ok {
		off := ""
		if nc := r.NoCache; nc != nil {
			if x, ok := ceilingRatio(nc.Max, r.Ceiling); ok {
				off = fmt.Sprintf(" (cache off: %s decisions/s = %.2f×)", num(nc.Max.OKRate), x)
			}
		}
		if wm := r.WrkMix; wm != nil && wm.RPS > 0 && r.Ceiling.RPS > 0 {
			off += fmt.Sprintf("; from wrk: %s/s = %.2f×", num(wm.RPS), wm.RPS/r.Ceiling.RPS)
		}
		w("| 8a | answer cache on, 50%%-returning mix, maximum throughput (2), against the new-user ceiling (1) | %s decisions/s = **%.2f×** the ceiling%s | ≥ %.1f× | %s (%.2f×) |\n",
			num(r.Max.OKRate), mix, off, cacheMixTarget, verdict(true, mix >= cacheMixTarget), mix)
	} else {
		w("| 8a | answer cache on, 50%%-returning mix, against the ceiling | | ≥ %.1f× | not measured |\n", cacheMixTarget)
	}
	if x, ok := ceilingRatio(r.MaxNew, r.Ceiling); ok {
		off := ""
		if nc := r.NoCache; nc != nil {
			if y, ok := ceilingRatio(nc.MaxNew, r.Ceiling); ok {
				off = fmt.Sprintf(" (cache off: %s = %.2f×)", num(nc.MaxNew.OKRate), y)
			}
		}
		w("| 8b | answer cache on, new users only (`-returning 0`), maximum throughput, against the ceiling | %s decisions/s = **%.2f×**%s | ≥ %.1f× | %s (%.2f×) |\n",
			num(r.MaxNew.OKRate), x, off, cacheNewTarget, verdict(true, x >= cacheNewTarget), x)
	} else {
		w("| 8b | answer cache on, new users only, against the ceiling | | ≥ %.1f× | not measured |\n", cacheNewTarget)
	}
	on, off := r.halfLoadCommands()
	switch {
	case on != nil && off != nil && off.PerSecond > 0:
		calls := ""
		if off.ScriptCallsPerSecond > 0 {
			calls = fmt.Sprintf("; script calls %s vs %s = **%.2f×**", num(on.ScriptCallsPerSecond), num(off.ScriptCallsPerSecond), on.ScriptCallsPerSecond/off.ScriptCallsPerSecond)
		}
		w("| 8c | Redis commands/s at half load (3), cache on vs off at the same %s/s | %s vs %s = **%.2f×**%s | about 0.5× at 50%% returning | (reported) |\n",
			num(r.Open.TargetRate), num(on.PerSecond), num(off.PerSecond), on.PerSecond/off.PerSecond, calls)
	default:
		why := r.noCacheSkipped()
		if why == "" {
			why = "no Redis command count"
		}
		w("| 8c | Redis commands/s at half load, cache on vs off | | about 0.5× | not measured (%s) |\n", why)
	}
	if b, ok := r.cacheEntryBytes(); ok {
		w("| 8d | answer cache memory per entry (`BenchmarkCache`) | **%.1f bytes/entry** | | (reported) |\n", b)
	} else {
		w("| 8d | answer cache memory per entry | | | not measured |\n")
	}
}

// halfLoadCommands returns the Redis command counts of (3) and of its
// cache-off twin, either nil when not measured.
func (r *Results) halfLoadCommands() (on, off *loadtest.RedisCommands) {
	if r.Open != nil {
		on = r.Open.RedisCommands
	}
	if nc := r.NoCache; nc != nil && nc.Open != nil {
		off = nc.Open.RedisCommands
	}
	return on, off
}

// cacheBenchmarks returns the answercache benchmarks that report
// bytes/entry.
func (r *Results) cacheBenchmarks() []GoBenchmark {
	var out []GoBenchmark
	for _, g := range r.GoBench {
		if _, ok := g.Metrics["bytes/entry"]; ok && strings.HasPrefix(g.Name, "answercache.BenchmarkCache") {
			out = append(out, g)
		}
	}
	return out
}

// cacheEntryBytes returns BenchmarkCache's bytes/entry (the first such
// benchmark, the top-level one when it reports it).
func (r *Results) cacheEntryBytes() (float64, bool) {
	bs := r.cacheBenchmarks()
	if len(bs) == 0 {
		return 0, false
	}
	return bs[0].Metrics["bytes/entry"], true
}

// cpuPer is a run's CPU-µs per decision of one watched process.
func cpuPer(rep *loadtest.Report, proc string) (float64, bool) {
	if rep == nil || rep.CPU == nil || rep.OK == 0 {
		return 0, false
	}
	v, ok := rep.CPU.Processes[proc]
	if !ok {
		return 0, false
	}
	return v * 1e6 / float64(rep.OK), true
}

// returningCPU derives the CPU-µs per returning decision from the mix run
// and the new-users run: mix = (1-f)·new + f·returning, f the mix's
// measured fraction of returning requests.
func returningCPU(mix, fresh *loadtest.Report, proc string) (float64, bool) {
	m, ok1 := cpuPer(mix, proc)
	n, ok2 := cpuPer(fresh, proc)
	if !ok1 || !ok2 || mix.OK == 0 || mix.ReturningRequests == 0 {
		return 0, false
	}
	f := float64(mix.ReturningRequests) / float64(mix.OK)
	return (m - (1-f)*n) / f, true
}

func us(v float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}

func (r *Results) renderCache(w writer) {
	w("## 8. The answer cache (issue 14)\n\n")
	w("`assignd` keeps the answers it gave in process (`-answer-cache`, on by default), so a returning user's answer needs no Redis call. ")
	w("The runs of (2) and (3) with the cache on are the default `assignd` above; for the cache off, `assignd` was restarted with `-answer-cache=false` (same port, Redis and namespace) and the runs repeated, ")
	w("the half-load one at the rate of (3) rather than half of its own maximum, so that Redis's commands per second compare like for like.\n\n")
	skipped := r.noCacheSkipped()
	if skipped != "" {
		w("Cache off: not measured (%s).\n\n", skipped)
	} else if a := r.NoCache.Env["assignd"]; a != "" {
		w("```\n%s\n```\n\n", a)
	}
	var nc NoCacheResults
	if r.NoCache != nil {
		nc = *r.NoCache
	}

	w("### 8a. Maximum throughput (closed loop, the flags of (2))\n\n")
	w("| load | cache on | cache off | on / off | on / the ceiling (1) |\n|---|---|---|---|---|\n")
	row := func(label string, on, off *loadtest.Report) {
		w("| %s | %s | %s | %s | %s |\n", label, rate(on), rate(off), ratio(on, off), ceil(on, r.Ceiling))
	}
	row("50% returning, decisions/s", r.Max, nc.Max)
	row("new users only (`-returning 0`), decisions/s", r.MaxNew, nc.MaxNew)
	if on, off := r.WrkMix, nc.WrkMix; on != nil && on.RPS > 0 {
		onOff, onCeil := "-", "-"
		if off != nil && off.RPS > 0 {
			onOff = fmt.Sprintf("%.2f×", on.RPS/off.RPS)
		}
		if r.Ceiling != nil && r.Ceiling.RPS > 0 {
			onCeil = fmt.Sprintf("%.2f×", on.RPS/r.Ceiling.RPS)
		}
		offRate := "-"
		if off != nil && off.RPS > 0 {
			offRate = num(off.RPS)
		}
		w("| 50%% returning from wrk (`bench/wrk-mix.lua`), requests/s | %s | %s | %s | %s |\n", num(on.RPS), offRate, onOff, onCeil)
	}
	w("\n")
	if r.WrkMix != nil && r.WrkMix.RPS > 0 {
		w("The wrk rows: the same mix of new and returning users (fresh users, 10 new experiments with no cap in reach, 64 connections), from a generator written in C that takes less of the machine's two cores than `assign-loadtest` and checks no answer; every request is one decision. p99 %s with the cache", orDash(r.WrkMix.P99))
		if nc.WrkMix != nil && nc.WrkMix.RPS > 0 {
			w(", %s without", orDash(nc.WrkMix.P99))
		}
		w(".\n\n%s\n", r.command("wrk_mix"))
		if nc.WrkMix != nil {
			w("%s\n", r.command("nocache_wrk_mix"))
		}
	}
	if r.Ceiling != nil {
		w("The ceiling (1): %s EVALSHA/s, a new user per call. Targets: the mix with the cache ≥ %.1f×, new users only ≥ %.1f×.\n\n", num(r.Ceiling.RPS), cacheMixTarget, cacheNewTarget)
	}

	w("### 8b. Half load (open loop, the flags of (3))\n\n")
	w("| | cache on | cache off |\n|---|---|---|\n")
	w("| rate | %s | %s |\n", target(r.Open), target(nc.Open))
	w("| p99 from the intended send time | %s | %s |\n", p99(r.Open), p99(nc.Open))
	w("| failed, dropped | %s | %s |\n", failures(r.Open), failures(nc.Open))
	on, off := r.halfLoadCommands()
	w("| Redis commands/s | %s | %s |\n", cmdRate(on), cmdRate(off))
	w("| Redis commands per decision | %s | %s |\n", cmdPer(r.Open, on), cmdPer(nc.Open, off))
	w("| script calls (EVALSHA, EVAL)/s | %s | %s |\n", callRate(on), callRate(off))
	w("\n")
	if on != nil && off != nil && off.PerSecond > 0 {
		w("With the cache Redis processed **%.2f×** the commands per second it processed without it, at the same rate", on.PerSecond/off.PerSecond)
		w(" (every client's commands: `assignd`'s heartbeats and pub/sub included, and any other client of this Redis; the commands a script runs inside Redis count too, so a new user's call weighs several times a returning member's)")
		if off.ScriptCallsPerSecond > 0 {
			w(", and **%.2f×** the script calls: at 50%% returning a cache that answers every returning user halves them", on.ScriptCallsPerSecond/off.ScriptCallsPerSecond)
		}
		w(".\n\n")
	}
	w("Commands per second: `INFO stats` total_commands_processed (and `INFO commandstats` calls of EVALSHA and EVAL) read by `assign-loadtest -redis-commands` right before the run's first request and right after its last answer, over that wall time (the warm-up and the verification after the run left out).\n\n")

	w("### 8c. CPU per decision\n\n")
	w("CPU-µs per decision, from `-watch` (CPU seconds of each process during the run, from /proc) divided by the run's decisions, at maximum throughput (8a's runs). ")
	w("New users: the `-returning 0` run, measured. Returning users: **derived**, not measured: the mix run's CPU per decision is (1 − f)·new + f·returning, with f its measured fraction of returning requests, so returning = (mix − (1 − f)·new) / f. ")
	w("(A `-returning 1` run would ask again only the few users answered first, a working set unlike the mix's; the derivation assumes a decision costs the same in both runs, and carries both runs' noise.)\n\n")
	w("| process, decision | cache on | cache off |\n|---|---|---|\n")
	for _, p := range []struct{ key, label string }{{"assignd", "`assignd`"}, {"redis", "Redis"}} {
		onNew, okOnNew := cpuPer(r.MaxNew, p.key)
		offNew, okOffNew := cpuPer(nc.MaxNew, p.key)
		onRet, okOnRet := returningCPU(r.Max, r.MaxNew, p.key)
		offRet, okOffRet := returningCPU(nc.Max, nc.MaxNew, p.key)
		w("| %s, new user | %s | %s |\n", p.label, us(onNew, okOnNew), us(offNew, okOffNew))
		w("| %s, returning user (derived) | %s | %s |\n", p.label, us(onRet, okOnRet), us(offRet, okOffRet))
	}
	if f, ok := returningFraction(r.Max); ok {
		w("\nf (the mix's returning requests / decisions): %.3f with the cache on", f)
		if g, ok := returningFraction(nc.Max); ok {
			w(", %.3f off", g)
		}
		w(". A negative derived figure means the runs' noise exceeds the difference.\n")
	}
	w("\n")

	w("### 8d. Memory per cache entry\n\n")
	if bs := r.cacheBenchmarks(); len(bs) > 0 {
		w("`BenchmarkCache` in package answercache (section 5's run) reports the cache's heap per entry (`b.ReportMetric`, unit bytes/entry):\n\n")
		w("| benchmark | bytes/entry | ns/op | allocs/op |\n|---|---|---|---|\n")
		for _, g := range bs {
			w("| %s | **%.1f** | %s | %.0f |\n", g.Name, g.Metrics["bytes/entry"], num(g.NsPerOp), g.AllocsPerOp)
		}
		w("\n")
	} else {
		w("Not measured: no answercache benchmark reporting bytes/entry in section 5's run.\n\n")
	}

	w("### 8e. The runs\n\n")
	for _, x := range []struct {
		title, name string
		rep         *loadtest.Report
	}{
		{"Cache off, maximum throughput (the flags of (2))", "nocache_max", nc.Max},
		{"Cache off, new users only", "nocache_max_new", nc.MaxNew},
		{"Cache off, half load at the rate of (3)", "nocache_open", nc.Open},
	} {
		w("#### %s\n\n", x.title)
		if skipped != "" {
			w("Not measured (%s).\n\n", skipped)
			continue
		}
		r.renderRun(w, x.name, x.rep)
	}
}

func returningFraction(rep *loadtest.Report) (float64, bool) {
	if rep == nil || rep.OK == 0 {
		return 0, false
	}
	return float64(rep.ReturningRequests) / float64(rep.OK), true
}

func rate(rep *loadtest.Report) string {
	if rep == nil {
		return "-"
	}
	return num(rep.OKRate)
}

func ratio(a, b *loadtest.Report) string {
	if a == nil || b == nil || b.OKRate <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a.OKRate/b.OKRate)
}

func ceil(rep *loadtest.Report, c *RedisBenchmark) string {
	if x, ok := ceilingRatio(rep, c); ok {
		return fmt.Sprintf("%.2f×", x)
	}
	return "-"
}

func target(rep *loadtest.Report) string {
	if rep == nil {
		return "-"
	}
	return fmt.Sprintf("%s/s (%s decisions/s)", num(rep.TargetRate), num(rep.OKRate))
}

func p99(rep *loadtest.Report) string {
	if rep == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f ms", rep.Latency.P99)
}

func failures(rep *loadtest.Report) string {
	if rep == nil {
		return "-"
	}
	return fmt.Sprintf("%d, %d", rep.Failed, rep.Dropped)
}

func cmdRate(c *loadtest.RedisCommands) string {
	if c == nil {
		return "-"
	}
	return num(c.PerSecond)
}

func callRate(c *loadtest.RedisCommands) string {
	if c == nil || c.ScriptCalls == 0 {
		return "-"
	}
	return num(c.ScriptCallsPerSecond)
}

func cmdPer(rep *loadtest.Report, c *loadtest.RedisCommands) string {
	if rep == nil || c == nil || rep.OK == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", perDecision(rep, c))
}

// --- (5)'s regression guard ---------------------------------------------------

var benchstatN = regexp.MustCompile(`n=(\d+)(?:\+(\d+))?`)

// judgeable reports whether benchstat's test could find a difference at
// alpha with the row's sample sizes: the smallest two-sided p of the
// Mann-Whitney U test with n1 and n2 samples is 2 / C(n1+n2, n1) (3 against
// 3 runs: 0.1, never significant).
func (b BenchstatRow) judgeable() bool {
	m := benchstatN.FindStringSubmatch(b.P)
	if m == nil {
		return true // no sample sizes given: trust the delta
	}
	n1, _ := strconv.Atoi(m[1])
	n2 := n1
	if m[2] != "" {
		n2, _ = strconv.Atoi(m[2])
	}
	c := 1.0
	for i := 1; i <= n1; i++ {
		c = c * float64(n2+i) / float64(i)
	}
	return 2/c < alpha
}

// regressionStatus sums (5)'s comparison: the rows that got worse, the
// comparable rows, and why there was no comparison ("" when there was).
func (r *Results) regressionStatus() (worse []BenchstatRow, comparable, unjudgeable int, why string) {
	b := r.Benchstat
	if b == nil {
		return nil, 0, 0, "this run did not compare its Go benchmarks"
	}
	prev := orDash(b.Env["previous"])
	switch b.Env["status"] {
	case "no_previous":
		return nil, 0, 0, "no previous report to compare with"
	case "no_lines":
		return nil, 0, 0, fmt.Sprintf("the previous report (%s) has no Go benchmark lines", prev)
	case "no_benchstat":
		return nil, 0, 0, "benchstat could not be installed"
	case "ok":
	default:
		return nil, 0, 0, "benchstat failed"
	}
	for _, row := range b.Rows {
		if !row.Comparable() {
			continue
		}
		comparable++
		if !row.judgeable() {
			unjudgeable++
		}
		if row.Worse() {
			worse = append(worse, row)
		}
	}
	if comparable == 0 && b.PrevCPU != "" && b.ThisCPU != "" && b.PrevCPU != b.ThisCPU {
		return nil, 0, 0, fmt.Sprintf("no comparable lines: the previous report's benchmarks ran on another CPU (%s; this run: %s), and benchstat compares only lines of the same configuration (goos, goarch, pkg, cpu)", b.PrevCPU, b.ThisCPU)
	}
	if comparable == 0 {
		return nil, 0, 0, fmt.Sprintf("no comparable lines: no benchmark of this run (package, name and -GOMAXPROCS suffix) is in the previous report (%s)", prev)
	}
	return worse, comparable, unjudgeable, ""
}

func rowName(b BenchstatRow) string {
	if b.Pkg == "" {
		return b.Name
	}
	return b.Pkg + "." + b.Name
}

func (r *Results) regressionVerdict(w writer) {
	worse, comparable, _, why := r.regressionStatus()
	if why != "" {
		w("| 5b | Go benchmarks against the previous report (benchstat, p < %.2f) | | none worse | not measured (%s) |\n", alpha, why)
		return
	}
	desc := fmt.Sprintf("none of %d comparable figures worse", comparable)
	if len(worse) > 0 {
		names := make([]string, len(worse))
		for i, b := range worse {
			names[i] = fmt.Sprintf("%s %s %s", rowName(b), b.Unit, b.Delta)
		}
		desc = fmt.Sprintf("**%d of %d comparable figures worse**: %s", len(worse), comparable, strings.Join(names, "; "))
	}
	w("| 5b | Go benchmarks against the previous report (benchstat, p < %.2f) | %s | none worse | %s |\n", alpha, desc, verdict(true, len(worse) == 0))
}

func (r *Results) renderRegressions(w writer) {
	w("### Against the previous report (benchstat)\n\n")
	worse, comparable, unjudgeable, why := r.regressionStatus()
	if b := r.Benchstat; b != nil && b.Env["previous"] != "" {
		w("Previous report: `%s`", b.Env["previous"])
		if c := b.Env["previous_commit"]; c != "" {
			w(" (made at commit %s)", c)
		}
		w(". ")
	}
	if why != "" {
		w("Not compared: %s.\n\n", why)
	} else {
		w("benchstat compared %d figures (benchmark × unit) present in both; a figure is worse when benchstat's Mann-Whitney test finds the difference significant (p < %.2f, or samples without variance that differ) and it went up (a cost: sec/op, B/op, allocs/op, bytes/entry) or down (a rate, per second).\n\n", comparable, alpha)
		if len(worse) == 0 {
			w("**No figure got worse beyond the noise.**\n\n")
		} else {
			w("**Worse beyond the noise:**\n\n| benchmark | unit | previous | this run | change | test |\n|---|---|---|---|---|---|\n")
			sort.SliceStable(worse, func(i, j int) bool { return rowName(worse[i]) < rowName(worse[j]) })
			for _, b := range worse {
				w("| %s | %s | %.4g | %.4g | **%s** | %s |\n", rowName(b), b.Unit, b.Old, b.New, b.Delta, b.P)
			}
			w("\n")
		}
		if unjudgeable > 0 {
			w("%d of the %d figures had too few runs on a side for the test ever to reach p < %.2f (e.g. 3 against 3): no verdict on those.\n\n", unjudgeable, comparable, alpha)
		}
	}
	if b := r.Benchstat; b != nil && strings.TrimSpace(b.Text) != "" {
		w("<details><summary>benchstat output</summary>\n\n```\n%s\n```\n</details>\n\n%s\n", strings.TrimSpace(b.Text), r.command("benchstat"))
	}
}
