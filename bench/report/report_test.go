package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/assign-dev/assign/loadtest"
	"github.com/assign-dev/assign/scripts"
)

func TestParseRedisBenchmarkCSV(t *testing.T) {
	rb, err := ParseRedisBenchmarkCSV(`"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"EVALSHA abc 3 k1 k2 k3 __rand_int__","39062.50","1.233","0.200","1.191","1.895","2.535","8.287"
`)
	if err != nil {
		t.Fatal(err)
	}
	if rb.RPS != 39062.5 || rb.P50 != 1.191 || rb.P99 != 2.535 || rb.Max != 8.287 {
		t.Fatalf("parsed %+v", *rb)
	}
	if _, err := ParseRedisBenchmarkCSV("garbage"); err == nil {
		t.Fatal("no error for garbage")
	}
}

func TestParseWrk(t *testing.T) {
	w := ParseWrk(`Running 10s test @ http://127.0.0.1:18080/api/experiment-enrollments
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.12ms    1.01ms  20.00ms   80.00%
  Latency Distribution
     50%    2.95ms
     75%    3.50ms
     90%    4.20ms
     99%    7.10ms
  200000 requests in 10.00s, 40.00MB read
  Non-2xx or 3xx responses: 12
Requests/sec:  20000.50
Transfer/sec:      4.00MB
`)
	if w.RPS != 20000.5 || w.P50 != "2.95ms" || w.P99 != "7.10ms" || w.Non2xx != 12 {
		t.Fatalf("parsed %+v", *w)
	}
}

func TestParseGoBench(t *testing.T) {
	got := ParseGoBench(`goos: linux
pkg: github.com/assign-dev/assign/auth
BenchmarkVerify/HS256-2         	  500000	      2100 ns/op	     900 B/op	      14 allocs/op
BenchmarkVerify/HS256-2         	  500000	      2000 ns/op	     900 B/op	      14 allocs/op
BenchmarkVerify/HS256-2         	  500000	      2500 ns/op	     900 B/op	      14 allocs/op
pkg: github.com/assign-dev/assign/assign
BenchmarkNewDraw-2   	 3000000	       400.5 ns/op
PASS
`)
	if len(got) != 2 {
		t.Fatalf("got %d benchmarks, want 2: %+v", len(got), got)
	}
	if g := got[0]; g.Name != "auth.BenchmarkVerify/HS256" || g.Runs != 3 || g.NsPerOp != 2100 || g.AllocsPerOp != 14 {
		t.Errorf("first %+v, want auth.BenchmarkVerify/HS256, 3 runs, median 2100 ns, 14 allocs", g)
	}
	if g := got[1]; g.Name != "assign.BenchmarkNewDraw" || g.NsPerOp != 400.5 {
		t.Errorf("second %+v", g)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRender renders a made-up run and checks the verdicts follow the numbers.
func TestRender(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"machine.env":    "date=2026-11-25T00:00:00Z\ncommit=abc123\ncores=2\n",
		"commands.tsv":   "max\tassign-loadtest -max\nceiling\tredis-benchmark -c 50\n",
		"ceiling.csv":    "\"test\",\"rps\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"\n\"EVALSHA\",\"40000\",\"1\",\"1\",\"1\",\"1\",\"2\",\"3\"\n",
		"gobench.txt":    "pkg: x/http\nBenchmarkEnrollHandler/Stub-2 100 1000 ns/op 100 B/op 4 allocs/op\n",
		"wrk.txt":        "Requests/sec:  30000.00\n",
		"wrk_batch5.txt": "Requests/sec:  12000.00\n",
	}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ok := &loadtest.Verification{Store: "redis", OK: true}
	writeJSON(t, filepath.Join(dir, "max.json"), loadtest.Report{OKRate: 24000, OK: 240000, Elapsed: 10, GeneratorCPU: 1.5, Verify: ok,
		CPU: &loadtest.CPUUsage{Wall: 10, Cores: 2, Busy: 19.5, Processes: map[string]float64{"assignd": 8, "redis": 9, "generator": 1.5}}})
	writeJSON(t, filepath.Join(dir, "open.json"), loadtest.Report{Mode: "open", TargetRate: 12000, OKRate: 12000,
		Latency: loadtest.LatencySummary{P99: 6.5}})
	writeJSON(t, filepath.Join(dir, "pg_count.json"), loadtest.Report{OKRate: 1000, Verify: &loadtest.Verification{Store: "postgres", OK: true}})
	writeJSON(t, filepath.Join(dir, "experiments_1_r1.json"), loadtest.Report{OKRate: 20000})
	writeJSON(t, filepath.Join(dir, "experiments_1_r2.json"), loadtest.Report{OKRate: 15000})
	writeJSON(t, filepath.Join(dir, "experiments_1000_r1.json"), loadtest.Report{OKRate: 12000})
	writeJSON(t, filepath.Join(dir, "experiments_1000_r2.json"), loadtest.Report{OKRate: 19000})
	tl := make([]int64, 20)
	for i := range tl {
		tl[i] = 1000
	}
	writeJSON(t, filepath.Join(dir, "fill.json"), loadtest.Report{Timeline: tl, Memory: &loadtest.RedisMemory{Members: 20000, PerMember: 40.25}})

	res, err := LoadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	md := Render(res)
	for _, want := range []string{
		"24,000 decisions/s = **0.60×** the ceiling", // (2): 24000 / 40000
		"| ≥ 0.5× | met (0.60) |",
		"p99 **6.50 ms**", // (3)
		"| p99 ≤ 5 ms | **not met** (6.50 ms) |",
		"`assignd` is 24×", // (4): 24000 / 1000
		"met (24×)",
		"4 allocs/op in the handler", // (5)
		"**40.2 bytes** (member buckets)",
		"throughput from 1 to 1,000 experiments | slowest/fastest = **0.950**", // (6b): best rounds, 19000 / 20000
		"| 1000 | **19,000** (12,000, 19,000) |",
		"slowest/fastest = **1.000**",      // (6c): a flat timeline
		"| 2,000 to 20,000 | 18 | 1,000 |", // 20 s of 1,000/s: 1% (200) is passed in the first second, 10% in the second
		"it took 33 µs",
		"```\nassign-loadtest -max\n```",
		"| assignd | 0.80 | 33 |", // 8 s / 10 s; 8e6 µs / 240,000 decisions
		"| everything else on the machine | 0.10 |",
		"The cores were saturated",

		"| 6a |",
		"**60,000 decisions/s** (12,000 requests/s)", // 5 × 12000
		"2.00× the decisions/s of one experiment a call",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "| 2 | `assignd` over HTTP, maximum throughput |  |") {
		t.Errorf("empty measurement cell")
	}
	if strings.Contains(md, "Caveat") {
		t.Errorf("caveat printed although other processes used only 0.10 cores")
	}
	if t.Failed() {
		t.Log(md)
	}

	// Other processes taking a core during (2): the report says so first.
	res.Max.CPU.Processes = map[string]float64{"assignd": 5, "redis": 4, "generator": 0.5}
	if md := Render(res); !strings.Contains(md, "other processes on this machine took CPU during (2) maximum throughput (1.00 cores)") {
		t.Errorf("no caveat with 1 core taken by others")
	}
}

// TestLoadCluster reads (7)'s files of the fixture: the nodes as
// assign-devcluster -json printed them, every run, the placements.
func TestLoadCluster(t *testing.T) {
	res, err := LoadResults("testdata/cluster")
	if err != nil {
		t.Fatal(err)
	}
	c := res.Cluster
	if c == nil {
		t.Fatal("no cluster results")
	}
	if len(c.Nodes) != 6 || c.Nodes[3].Role != "replica" || c.Nodes[3].Master != "127.0.0.1:7001" || c.Nodes[0].PID != 8001 {
		t.Errorf("nodes %+v", c.Nodes)
	}
	if m := c.Masters(); len(m) != 3 || m[2] != "127.0.0.1:7003" {
		t.Errorf("masters %v", m)
	}
	for name, rep := range map[string]*loadtest.Report{"max": c.Max, "open": c.Open, "hot": c.Hot, "durable_max": c.DurableMax, "durable_open": c.DurableOpen} {
		if rep == nil {
			t.Errorf("cluster_%s.json not read", name)
		}
	}
	if len(c.Placement["max"]) != 10 || c.Placement["max"]["cmax-4"] != "127.0.0.1:7002" || c.Placement["hot"]["chot-0"] != "127.0.0.1:7001" {
		t.Errorf("placement %v", c.Placement)
	}
	if c.Env["seed_url"] != "redis://127.0.0.1:7001" || c.Env["loadavg_end"] != "1.30 1.40 1.50" {
		t.Errorf("env %v", c.Env)
	}
}

// TestRenderCluster renders the fixture's section 7 and checks every figure
// against the numbers the fixture was made of.
func TestRenderCluster(t *testing.T) {
	res, err := LoadResults("testdata/cluster")
	if err != nil {
		t.Fatal(err)
	}
	md := Render(res)
	for _, want := range []string{
		// Targets, row 7: (7.2 + 3.6 + 0.9) s × 10,000 / 180,000 = 0.65 vs (8 + 4) × 10,000 / 200,000 = 0.60.
		"| 7 | Redis Cluster (3 masters, 3 replicas), run (2): CPU per decision of `assignd` + Redis, in cores per 10,000 decisions/s | cluster **0.65** vs single node 0.60 = **1.08×**; throughput 18,000 vs 20,000 decisions/s | ≤ 1.15× the single node | met (1.08×) |",
		"## 7. Redis Cluster",
		"Load average at the start of this part 1.00 1.10 1.20, at its end 1.30 1.40 1.50.",
		"```\nassign-devcluster -masters 3 -replicas 1 -json -dir <bench work dir>/cluster\n```",
		"```\nassignd -addr 127.0.0.1:18081 -redis-url redis://127.0.0.1:7001\n```",
		// The nodes and where the experiments fell.
		"| 127.0.0.1:7001 | master | 4 (cmax-0, cmax-3, cmax-6, cmax-9) | chot-0 |",
		"| 127.0.0.1:7002 | master | 3 (cmax-1, cmax-4, cmax-7) | - |",
		"| 127.0.0.1:7004 | replica of 127.0.0.1:7001 | - | - |",
		// The comparison table: single, cluster, ratio, min-replicas, ratio.
		"| maximum throughput (2), decisions/s | 20,000 | 18,000 | 0.90× | 9,000 | 0.50× |",
		"| half load (3), requests/s | 10,000 | 9,000 | 0.90× | 4,500 | 0.50× |",
		"| **p99 at half load (3)**, from the intended send time | 6.00 ms | 8.00 ms | 1.33× | 20.00 ms | 2.50× |",
		"| `assignd` | 0.40 | 0.40 | 1.00× | 0.70 | 1.75× |",
		"| Redis, every redis-server (single node: its one; cluster: 3 masters + 3 replicas) | 0.20 | 0.25 | 1.25× | 0.50 | 2.00× |",
		"| Redis masters only | 0.20 | 0.20 | 1.00× | 0.40 | 2.00× |",
		"| Redis replicas only | - | 0.05 | - | 0.10 | 2.00× |",
		"| **`assignd` + Redis** (the target's measure) | 0.60 | 0.65 | 1.08× | 1.20 | 1.85× |",
		"| `assignd` + Redis, cores per 10,000 decisions/s | 0.75 | 0.87 | 1.16× | 1.56 | 1.79× |", // (3): 7.5 s / 100,000, 7.8 s / 90,000, 7 s / 45,000
		"| failed or dropped requests, (2) + (3) | 0 | 0 | - | 4 | - |",
		// The verdict and its parts.
		"**Target (issue 9): the cluster's CPU per decision, `assignd` + Redis, within 15% of the single node's: 0.65 / 0.60 cores per 10,000 decisions/s = 1.08×, met.**",
		"Counting the masters only (the single node has no replica to feed): 1.00×.",
		"By process: `assignd` 0.40 → 0.40 (1.00×), Redis 0.20 → 0.25 (1.25×).",
		// What separate machines would add: one core per node.
		"The single node at 0.20 cores per 10,000 decisions/s: about **50,000 decisions/s**.",
		"The cluster's busiest master (:7001) at 0.10: about **100,000 decisions/s**",
		"about **150,000 decisions/s** with many experiments spread evenly (3 masters at 0.20 cores per 10,000/s between them)",
		"0.40 cores per 10,000 decisions/s is about 25,000 decisions/s per core",
		"The replicas' 0.05 cores per 10,000 decisions/s",
		// The runs, each with its command and the CPU of every node.
		"```\nassign-loadtest -url http://127.0.0.1:18081 -experiments 10 -prefix cmax\n```",
		"; assignd 0.72; redis masters 0.36 (:7001 0.18, :7002 0.09, :7003 0.09); redis replicas 0.09 (:7004 0.03, :7005 0.03, :7006 0.03); generator 0.45; other processes 0.36 |",
		// The hot experiment.
		"one master (127.0.0.1:7001) runs every script call",
		"| decisions/s | 18,000 | **15,000** | 0.83× |",
		"| busiest master, cores | 0.18 (:7001) | 0.30 (:7001) | 1.67× |",
		"| the other masters, cores | | 0.00 together | |",
		"at the 0.20 cores per 10,000 decisions/s that master took here, about **50,000 decisions/s**",
		"```\nassign-loadtest -url http://127.0.0.1:18081 -experiments 1 -prefix chot\n```",
		// -redis-min-replicas 1.
		"```\nassignd -addr 127.0.0.1:18081 -redis-url redis://127.0.0.1:7001 -redis-min-replicas 1\n```",
		"maximum throughput 18,000 → **9,000 decisions/s** (0.50×); p99 at half load 8.00 → **20.00 ms** (at 4,500/s instead of 9,000/s); CPU of `assignd` + Redis per 10,000 decisions/s 0.65 → **1.20** (+85%): `assignd` 0.40 → 0.70, Redis 0.25 → 0.50; 4 requests failed (all answered 503",
		// The hot run, one master: (6 + 3.02 + 0.3) s × 10,000 / 150,000 = 0.62 < 0.65.
		"With the whole load on one master instead (7c), the cluster took 0.62 cores per 10,000 decisions/s, 1.04× the single node's: the extra CPU comes with spreading",
		"```\nassign-loadtest -url http://127.0.0.1:18081 -experiments 10 -prefix dmax\n```",
		"```\nassign-loadtest -url http://127.0.0.1:18081 -rate 4500 -prefix dopen\n```",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}

	// More CPU per decision on the cluster: the verdict follows.
	res.Cluster.Max.CPU.Processes["assignd"] = 9 // (9 + 3.6 + 0.9) / 18 = 0.75 = 1.25× 0.60
	md = Render(res)
	for _, want := range []string{
		"cluster **0.75** vs single node 0.60 = **1.25×**",
		"| ≤ 1.15× the single node | **not met** (1.25×) |",
		"= 1.25×, NOT MET.**",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report with 1.25× lacks %q", want)
		}
	}

	// Other processes taking CPU during a cluster run: the caveat names it.
	res.Cluster.Open.CPU.Busy = 20 // 20 - 4.5 - 2.7 - 0.6 - 2.5 = 9.7 s over 10 s
	if md := Render(res); !strings.Contains(md, "(7) the cluster's open loop (0.97 cores)") {
		t.Errorf("no caveat for the cluster's open loop")
	}
}

// TestRenderClusterSkipped: BENCH_CLUSTER=0, a cluster that did not start, and
// a results dir from before (7) are each said, never rendered as zeros.
func TestRenderClusterSkipped(t *testing.T) {
	for _, tc := range []struct {
		name, env string
		wants     []string
	}{
		{"BENCH_CLUSTER=0", "skipped=BENCH_CLUSTER=0\n", []string{
			"## 7. Redis Cluster\n\nNot measured: BENCH_CLUSTER=0.",
			"| ≤ 1.15× the single node | not measured (BENCH_CLUSTER=0) |",
		}},
		{"no cluster part", "", []string{
			"## 7. Redis Cluster\n\nNot measured (this run had no cluster part).",
			"| ≤ 1.15× the single node | not measured |",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "machine.env"), []byte("cores=2\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			writeJSON(t, filepath.Join(dir, "max.json"), loadtest.Report{OKRate: 20000, OK: 200000,
				CPU: &loadtest.CPUUsage{Wall: 10, Cores: 2, Busy: 17, Processes: map[string]float64{"assignd": 8, "redis": 4, "generator": 5}}})
			if tc.env != "" {
				if err := os.WriteFile(filepath.Join(dir, "cluster.env"), []byte(tc.env), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res, err := LoadResults(dir)
			if err != nil {
				t.Fatal(err)
			}
			if (res.Cluster == nil) != (tc.env == "") {
				t.Fatalf("cluster results %+v with cluster.env %q", res.Cluster, tc.env)
			}
			md := Render(res)
			for _, want := range tc.wants {
				if !strings.Contains(md, want) {
					t.Errorf("report lacks %q", want)
				}
			}
			if strings.Contains(md, "7a.") || strings.Contains(md, "Target (issue 9)") {
				t.Errorf("cluster runs rendered although none was measured:\n%s", md)
			}
		})
	}
}

// TestRunSh_CeilingFollowsTheContract holds bench/run.sh's ceiling, the
// enrollment script called by redis-benchmark with hand-written KEYS and
// ARGV, to the script contract: a key or an argument added to the script
// and not to the bench made every ceiling call fail.
func TestRunSh_CeilingFollowsTheContract(t *testing.T) {
	b, err := os.ReadFile("../run.sh")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "CEIL_ARGS=(EVALSHA ") {
			line = l
		}
	}
	if line == "" {
		t.Fatal("no CEIL_ARGS=(EVALSHA ...) line in run.sh")
	}
	// EVALSHA sha numkeys key... arg...: the words of the array, "" counted.
	words := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(line, "CEIL_ARGS=("), ")"))
	numKeys, err := strconv.Atoi(words[2])
	if err != nil {
		t.Fatalf("numkeys %q: %v", words[2], err)
	}
	if want := scripts.EnrollKeyOlder - 1; numKeys != want {
		t.Errorf("the ceiling passes %d keys, the contract has %d outside a layer", numKeys, want)
	}
	if got, want := len(words)-3-numKeys, scripts.EnrollArgs; got != want {
		t.Errorf("the ceiling passes %d arguments, the contract has %d outside a layer", got, want)
	}
}

// TestParseGoBench_Metrics: a custom unit (b.ReportMetric) between ns/op
// and B/op is read, and does not hide B/op and allocs/op.
func TestParseGoBench_Metrics(t *testing.T) {
	got := ParseGoBench(`pkg: github.com/assign-dev/assign/answercache
BenchmarkCache-2   	 10000000	        80.0 ns/op	        61.5 bytes/entry	      16 B/op	       1 allocs/op
BenchmarkCache-2   	 10000000	        82.0 ns/op	        61.7 bytes/entry	      16 B/op	       1 allocs/op
BenchmarkCache-2   	 10000000	        79.0 ns/op	        61.4 bytes/entry	      16 B/op	       1 allocs/op
`)
	if len(got) != 1 {
		t.Fatalf("got %+v", got)
	}
	g := got[0]
	if g.Name != "answercache.BenchmarkCache" || g.Runs != 3 || g.NsPerOp != 80 || g.BytesPerOp != 16 || g.AllocsPerOp != 1 || g.Metrics["bytes/entry"] != 61.5 {
		t.Errorf("got %+v, want 3 runs, 80 ns, 16 B, 1 alloc, 61.5 bytes/entry (medians)", g)
	}
}

// TestExtractGoBench takes the raw go test lines out of a previous report,
// and nothing else of it.
func TestExtractGoBench(t *testing.T) {
	md, err := os.ReadFile("testdata/cache/previous.md")
	if err != nil {
		t.Fatal(err)
	}
	got := ExtractGoBench(string(md))
	want, err := os.ReadFile("testdata/cache/gobench_prev.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("extracted:\n%s\nwant:\n%s", got, want)
	}
	if ExtractGoBench("# Benchmarks\n\n| benchmark | runs |\n| http.BenchmarkX | 3 |\n") != "" {
		t.Error("lines extracted from a report without raw output")
	}
}

// TestParseBenchstatCSV reads the fixture's benchstat -format csv (made by
// the pinned benchstat from gobench_prev.txt and gobench.txt).
func TestParseBenchstatCSV(t *testing.T) {
	b, err := os.ReadFile("testdata/cache/benchstat.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ParseBenchstatCSV(string(b))
	if err != nil {
		t.Fatal(err)
	}
	var comparable, worse []string
	for _, r := range rows {
		if r.Comparable() {
			comparable = append(comparable, r.Pkg+"."+r.Name+" "+r.Unit)
		}
		if r.Worse() {
			worse = append(worse, r.Pkg+"."+r.Name+" "+r.Unit+" "+r.Delta)
		}
	}
	// answercache is only in this run: not comparable. http: unchanged.
	if len(comparable) != 6 {
		t.Errorf("comparable %v, want http's and redisstore's 3 units each", comparable)
	}
	if strings.Join(worse, "; ") != "redisstore.Enroll/New-2 sec/op +50.00%; redisstore.Enroll/New-2 allocs/op +8.00%" {
		t.Errorf("worse %v", worse)
	}
	// A rate is worse when it goes down.
	if !(BenchstatRow{HasOld: true, HasNew: true, Unit: "B/s", Delta: "-10.00%"}).Worse() ||
		(BenchstatRow{HasOld: true, HasNew: true, Unit: "sec/op", Delta: "-10.00%"}).Worse() ||
		(BenchstatRow{HasOld: true, HasNew: true, Unit: "sec/op", Delta: "~"}).Worse() {
		t.Error("Worse: wrong direction")
	}
	// 3 against 3 runs can never reach p < 0.05; 3 against 5 can.
	if (BenchstatRow{P: "p=0.100 n=3"}).judgeable() || !(BenchstatRow{P: "p=0.036 n=3+5"}).judgeable() || (BenchstatRow{P: "p=1.000 n=1+3"}).judgeable() {
		t.Error("judgeable: wrong sample-size bound")
	}
}

// TestRenderCache renders the fixture of issue 14's part: section 8, its
// Targets rows and section 5's regression guard, each figure from the
// fixture's numbers.
func TestRenderCache(t *testing.T) {
	res, err := LoadResults("testdata/cache")
	if err != nil {
		t.Fatal(err)
	}
	md := Render(res)
	for _, want := range []string{
		// Targets: 22,000 / 20,000 and 17,000 / 20,000; cache off 16,000 and 15,000.
		"| 8a | answer cache on, 50%-returning mix, maximum throughput (2), against the new-user ceiling (1) | 22,000 decisions/s = **1.10×** the ceiling (cache off: 16,000 decisions/s = 0.80×); from wrk: 24,000/s = 1.20× | ≥ 1.0× | met (1.10×) |",
		// 8a's wrk row: 24,000 / 16,000 and 24,000 / 20,000, with both commands.
		"| 50% returning from wrk (`bench/wrk-mix.lua`), requests/s | 24,000 | 16,000 | 1.50× | 1.20× |",
		"p99 4.80ms with the cache, 9.10ms without.",
		"```\ntokens -users 400000 -prefix wmix; TOKENS=tokens.tsv wrk -s bench/wrk-mix.lua\n```",
		"```\ntokens -users 400000 -prefix nwmix; TOKENS=tokens.tsv wrk -s bench/wrk-mix.lua\n```",
		"| 8b | answer cache on, new users only (`-returning 0`), maximum throughput, against the ceiling | 17,000 decisions/s = **0.85×** (cache off: 15,000 = 0.75×) | ≥ 0.8× | met (0.85×) |",
		"| 8c | Redis commands/s at half load (3), cache on vs off at the same 11,000/s | 33,000 vs 66,000 = **0.50×**; script calls 5,500 vs 11,000 = **0.50×** |",
		"| 8d | answer cache memory per entry (`BenchmarkCache`) | **61.5 bytes/entry** |",
		"| p99 ≤ 5 ms | met (4.20 ms) |", // (3): the cache-on mix
		// 8a's table.
		"| 50% returning, decisions/s | 22,000 | 16,000 | 1.38× | 1.10× |",
		"| new users only (`-returning 0`), decisions/s | 17,000 | 15,000 | 1.13× | 0.85× |",
		// 8b: same rate, p99, commands.
		"| rate | 11,000/s (11,000 decisions/s) | 11,000/s (11,000 decisions/s) |",
		"| p99 from the intended send time | 4.20 ms | 5.50 ms |",
		"| Redis commands/s | 33,000 | 66,000 |",
		"| Redis commands per decision | 3.00 | 6.00 |", // 330,000 / 110,000; 660,000 / 110,000
		"| script calls (EVALSHA, EVAL)/s | 5,500 | 11,000 |",
		", and **0.50×** the script calls",
		"With the cache Redis processed **0.50×** the commands per second",
		"| Redis commands | 33,000/s (330,000 in 10.0 s",
		// 8c: new measured, returning derived. On: assignd 6.8 s / 170,000 = 40, mix 30 -> (30 - 20) / 0.5 = 20;
		// Redis 30 and 20 -> 10. Off: assignd 42 and 40 -> 38; Redis 44 and 40 -> 36.
		"| `assignd`, new user | 40.0 | 42.0 |",
		"| `assignd`, returning user (derived) | 20.0 | 38.0 |",
		"| Redis, new user | 30.0 | 44.0 |",
		"| Redis, returning user (derived) | 10.0 | 36.0 |",
		"f (the mix's returning requests / decisions): 0.500 with the cache on, 0.500 off",
		// 8d and section 5's column.
		"| answercache.BenchmarkCache | **61.5** | 80 | 1 |",
		"| answercache.BenchmarkCache | 5 | 80 | 16 | 1 | 61.5 bytes/entry |",
		// The cache-off runs with their commands.
		"```\nassignd -addr 127.0.0.1:18080 -redis-url redis://127.0.0.1:6379 -answer-cache=false\n```",
		"```\nassign-loadtest -rate 11000 -redis-commands -prefix nopen\n```",
		"```\nassign-loadtest -returning 0 -prefix maxnew\n```",
		// The regression guard: redisstore got slower and allocates more.
		"| 5b | Go benchmarks against the previous report (benchstat, p < 0.05) | **2 of 6 comparable figures worse**: redisstore.Enroll/New-2 sec/op +50.00%; redisstore.Enroll/New-2 allocs/op +8.00% |",
		"| none worse | **not met** |",
		"Previous report: `BENCHMARKS.md` (made at commit 69ddd61).",
		"| redisstore.Enroll/New-2 | sec/op | 2e-05 | 3e-05 | **+50.00%** | p=0.036 n=3+5 |",
		"| redisstore.Enroll/New-2 | allocs/op | 25 | 27 | **+8.00%** | p=0.036 n=3+5 |",
		"<details><summary>benchstat output</summary>",
		"Enroll/New-2   20.00µ ± ∞ ¹   30.00µ ± ∞ ¹  +50.00% (p=0.036 n=3+5)", // the text kept
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}

	// The targets follow the numbers.
	res.Max.OKRate, res.MaxNew.OKRate = 19000, 15000
	md = Render(res)
	for _, want := range []string{"| ≥ 1.0× | **not met** (0.95×) |", "| ≥ 0.8× | **not met** (0.75×) |"} {
		if !strings.Contains(md, want) {
			t.Errorf("slower run: report lacks %q", want)
		}
	}

	// No regression: said plainly.
	res.Benchstat.Rows = res.Benchstat.Rows[:0:0]
	res.Benchstat.Rows = append(res.Benchstat.Rows, BenchstatRow{Pkg: "http", Name: "EnrollHandler/Stub-2", Unit: "sec/op", HasOld: true, HasNew: true, Delta: "~", P: "p=0.400 n=5"})
	md = Render(res)
	for _, want := range []string{"none of 1 comparable figures worse | none worse | met |", "**No figure got worse beyond the noise.**"} {
		if !strings.Contains(md, want) {
			t.Errorf("no regression: report lacks %q", want)
		}
	}

	// No comparable line, no previous file, no benchmark lines in it.
	for _, tc := range []struct {
		env  map[string]string
		rows []BenchstatRow
		want string
	}{
		{map[string]string{"status": "ok", "previous": "BENCHMARKS.md"}, []BenchstatRow{{Name: "Cache-2", Unit: "sec/op", HasNew: true}},
			"Not compared: no comparable lines: no benchmark of this run (package, name and -GOMAXPROCS suffix) is in the previous report (BENCHMARKS.md)."},
		{map[string]string{"status": "no_previous"}, nil, "Not compared: no previous report to compare with."},
		{map[string]string{"status": "ok", "previous": "BENCHMARKS.md"}, []BenchstatRow{{Name: "Cache-2", Unit: "sec/op", HasNew: true}},
			"Not compared: no comparable lines: the previous report's benchmarks ran on another CPU (Intel Xeon; this run: AMD EPYC), and benchstat compares only lines of the same configuration"},
		{map[string]string{"status": "no_lines", "previous": "old.md"}, nil, "not measured (the previous report (old.md) has no Go benchmark lines) |"},
	} {
		res.Benchstat = &BenchstatResults{Env: tc.env, Rows: tc.rows}
		if strings.Contains(tc.want, "another CPU") {
			res.Benchstat.PrevCPU, res.Benchstat.ThisCPU = "Intel Xeon", "AMD EPYC"
		}
		if md := Render(res); !strings.Contains(md, tc.want) {
			t.Errorf("status %v: report lacks %q", tc.env, tc.want)
		}
	}

	// The cache-off part skipped (assignd refused the flag): said, no zeros.
	res.NoCache = &NoCacheResults{Env: map[string]string{"skipped": "assignd -answer-cache=false did not start"}}
	md = Render(res)
	for _, want := range []string{
		"Cache off: not measured (assignd -answer-cache=false did not start).",
		"| 50% returning, decisions/s | 19,000 | - | - | 0.95× |",
		"| 8c | Redis commands/s at half load, cache on vs off | | about 0.5× | not measured (assignd -answer-cache=false did not start) |",
		"| `assignd`, returning user (derived) | 20.0 | - |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("cache off skipped: report lacks %q", want)
		}
	}
}

// TestRunSh_CacheAndRegressionGuard holds bench/run.sh to issue 14's
// pieces the report reads: answercache among (5)'s packages, benchstat
// pinned, the cache-off restart, and the commands count of the half-load runs.
func TestRunSh_CacheAndRegressionGuard(t *testing.T) {
	b, err := os.ReadFile("../run.sh")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		"for p in ./assign ./auth ./http ./redisstore ./answercache; do",
		"BENCHSTAT_VERSION=v0.0.0-20260908200009-22c9c6c9d4da",
		`GOBIN=$BIN go install "golang.org/x/perf/cmd/benchstat@$BENCHSTAT_VERSION"`,
		"start_assignd -answer-cache=false",
		`-rate "$RATE" -duration $DUR -warmup $WARMUP -redis-commands)`,
		`"${LT[@]}" "${OPEN_FLAGS[@]}" -prefix nopen >"$RES/nocache_open.json"`,
		"BENCHCOUNT=5",
		// The wrk mix, cache on and off, into the files the report reads.
		`>"$RES/$name.txt"`,
		"wrk_mix wrk_mix wmix",
		"wrk_mix nocache_wrk_mix nwmix",
		"-s bench/wrk-mix.lua",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("run.sh lacks %q", want)
		}
	}
}
