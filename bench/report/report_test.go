package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/assign-dev/assign/loadtest"
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
		"machine.env":  "date=2026-11-25T00:00:00Z\ncommit=abc123\ncores=2\n",
		"commands.tsv": "max\tassign-loadtest -max\nceiling\tredis-benchmark -c 50\n",
		"ceiling.csv":  "\"test\",\"rps\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"\n\"EVALSHA\",\"40000\",\"1\",\"1\",\"1\",\"1\",\"2\",\"3\"\n",
		"gobench.txt":  "pkg: x/http\nBenchmarkEnrollHandler/Stub-2 100 1000 ns/op 100 B/op 4 allocs/op\n",
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
