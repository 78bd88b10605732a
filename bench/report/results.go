package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/assign-dev/assign/loadtest"
)

// Results is everything one bench/run.sh run measured. A missing piece is
// nil or zero, and the report says it was not measured.
type Results struct {
	Machine  map[string]string
	Commands map[string]string // result name -> the command that produced it
	CPU      map[string]float64
	FillInfo map[string]float64

	Ceiling, CeilingP16 *RedisBenchmark
	Max, Open, Fill     *loadtest.Report
	MaxNew              *loadtest.Report            // (2) with -returning 0: new users only, the answer cache on
	NoCache             *NoCacheResults             // (8); nil when the run had no such part
	PG                  map[string]*loadtest.Report // "count", "counter"
	Experiments         map[int][]*loadtest.Report  // by number of experiments, one per round
	Wrk                 *Wrk
	// WrkBatch5 is wrk with the multi-experiment form, 5 ids a call.
	WrkBatch5 *Wrk
	// WrkMix is wrk with (2)'s 50%-returning mix (bench/wrk-mix.lua).
	WrkMix     *Wrk
	GoBench    []GoBenchmark
	GoBenchRaw string
	Benchstat  *BenchstatResults // (5)'s comparison with the previous report; nil when not attempted
	Cluster    *ClusterResults   // (7); nil when the run had no cluster part
}

// ClusterResults is (7): the runs through a second assignd against a local
// Redis Cluster (assign-devcluster), with the flags of (2) and (3).
type ClusterResults struct {
	Env   map[string]string // cluster.env: seed_url, redis, node_timeout, assignd, loadavg_start/end, skipped, ...
	Nodes []ClusterNode     // cluster_nodes.json, assign-devcluster -json

	Max, Open   *loadtest.Report // the flags of (2) and (3)
	Hot         *loadtest.Report // the flags of (2) with -experiments 1
	DurableMax  *loadtest.Report // (2) with assignd -redis-min-replicas 1
	DurableOpen *loadtest.Report // (3) with assignd -redis-min-replicas 1

	// Placement maps a run ("max", "hot") to its experiments' masters:
	// experiment id -> master address.
	Placement map[string]map[string]string
}

// NoCacheResults is (8): assignd restarted with -answer-cache=false and the
// runs of (2) (the mix, new users only) and (3) at (3)'s rate.
type NoCacheResults struct {
	Env         map[string]string // nocache.env: assignd, or skipped
	Max, MaxNew *loadtest.Report
	Open        *loadtest.Report
	WrkMix      *Wrk // nocache_wrk_mix.txt
}

// BenchstatResults is (5)'s regression guard: benchstat of the previous
// report's Go benchmark lines against this run's.
type BenchstatResults struct {
	Env  map[string]string // benchstat.env: status, previous, previous_commit
	Text string            // benchstat's text output
	Rows []BenchstatRow    // benchstat -format csv
	// PrevCPU and ThisCPU are the "cpu:" lines of the two inputs: benchstat
	// compares only lines of the same configuration.
	PrevCPU, ThisCPU string
}

// BenchstatRow is one benchmark and unit of benchstat's comparison.
type BenchstatRow struct {
	Pkg, Name, Unit string
	Old, New        float64
	HasOld, HasNew  bool
	Delta           string // "~" (no significant difference), "+12.34%", "-5.00%"
	P               string // "p=0.008 n=5+5", or "n=5+5" when the samples have no variance
}

// Comparable reports whether both files measured the benchmark.
func (b BenchstatRow) Comparable() bool { return b.HasOld && b.HasNew }

// Worse reports whether benchstat found the figure significantly worse:
// a change it did not call noise ("~"), up for a cost (sec/op, B/op,
// allocs/op, bytes/entry, ...), down for a rate (a unit per second).
func (b BenchstatRow) Worse() bool {
	if !b.Comparable() || b.Delta == "" || b.Delta == "~" {
		return false
	}
	up := strings.HasPrefix(b.Delta, "+")
	if strings.HasSuffix(b.Unit, "/s") {
		return !up
	}
	return up
}

// ClusterNode is one redis-server of the cluster, with its role at start.
type ClusterNode struct {
	Addr   string `json:"addr"`
	Port   int    `json:"port"`
	PID    int    `json:"pid"`
	Role   string `json:"role"`
	Master string `json:"master,omitempty"`
}

// clusterDescription is what assign-devcluster -json prints.
type clusterDescription struct {
	SeedURL     string        `json:"seed_url"`
	NodeTimeout string        `json:"node_timeout"`
	Nodes       []ClusterNode `json:"nodes"`
}

// RedisBenchmark is one line of redis-benchmark --csv.
type RedisBenchmark struct {
	RPS, Avg, P50, P95, P99, Max float64
}

// Wrk is what wrk printed.
type Wrk struct {
	RPS      float64
	P50, P99 string
	Non2xx   int64
	Raw      string
}

// GoBenchmark is one benchmark's median over its -count runs.
type GoBenchmark struct {
	Name        string
	Runs        int
	NsPerOp     float64
	BytesPerOp  float64
	AllocsPerOp float64
	// Metrics holds the medians of the other units the benchmark reported
	// (b.ReportMetric), such as bytes/entry.
	Metrics map[string]float64
}

// LoadResults reads a results directory. Files that are missing or empty
// are left out; files that exist but cannot be read are errors.
func LoadResults(dir string) (*Results, error) {
	r := &Results{PG: map[string]*loadtest.Report{}, Experiments: map[int][]*loadtest.Report{}}
	var err error
	if r.Machine, err = readEnv(filepath.Join(dir, "machine.env")); err != nil {
		return nil, err
	}
	if r.Commands, err = readCommands(filepath.Join(dir, "commands.tsv")); err != nil {
		return nil, err
	}
	if r.FillInfo, err = readFloatEnv(filepath.Join(dir, "fill_info.env")); err != nil {
		return nil, err
	}
	if r.Ceiling, err = readRedisBenchmark(filepath.Join(dir, "ceiling.csv")); err != nil {
		return nil, err
	}
	if r.CeilingP16, err = readRedisBenchmark(filepath.Join(dir, "ceiling_p16.csv")); err != nil {
		return nil, err
	}
	for name, dst := range map[string]**loadtest.Report{"max": &r.Max, "max_new": &r.MaxNew, "open": &r.Open, "fill": &r.Fill} {
		if *dst, err = readReport(filepath.Join(dir, name+".json")); err != nil {
			return nil, err
		}
	}
	for _, v := range []string{"count", "counter"} {
		rep, err := readReport(filepath.Join(dir, "pg_"+v+".json"))
		if err != nil {
			return nil, err
		} else if rep != nil {
			r.PG[v] = rep
		}
	}
	// experiments_<n>.json or experiments_<n>_r<round>.json
	matches, _ := filepath.Glob(filepath.Join(dir, "experiments_*.json"))
	sort.Strings(matches)
	for _, m := range matches {
		base := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "experiments_"), ".json")
		base, _, _ = strings.Cut(base, "_")
		n, err := strconv.Atoi(base)
		if err != nil {
			continue
		}
		rep, err := readReport(m)
		if err != nil {
			return nil, err
		} else if rep != nil {
			r.Experiments[n] = append(r.Experiments[n], rep)
		}
	}
	if r.Cluster, err = loadCluster(dir); err != nil {
		return nil, err
	}
	if r.NoCache, err = loadNoCache(dir); err != nil {
		return nil, err
	}
	if r.Benchstat, err = loadBenchstat(dir); err != nil {
		return nil, err
	}
	if b, err := readOptional(filepath.Join(dir, "wrk.txt")); err != nil {
		return nil, err
	} else if b != nil {
		r.Wrk = ParseWrk(string(b))
	}
	if b, err := readOptional(filepath.Join(dir, "wrk_batch5.txt")); err != nil {
		return nil, err
	} else if b != nil {
		r.WrkBatch5 = ParseWrk(string(b))
	}
	if b, err := readOptional(filepath.Join(dir, "wrk_mix.txt")); err != nil {
		return nil, err
	} else if b != nil {
		r.WrkMix = ParseWrk(string(b))
	}
	if b, err := readOptional(filepath.Join(dir, "gobench.txt")); err != nil {
		return nil, err
	} else if b != nil {
		r.GoBenchRaw = string(b)
		r.GoBench = ParseGoBench(string(b))
	}
	return r, nil
}

// loadNoCache reads (8)'s files: nocache.env and nocache_<run>.json. It
// returns nil when there are none.
func loadNoCache(dir string) (*NoCacheResults, error) {
	c := &NoCacheResults{}
	var err error
	if c.Env, err = readEnv(filepath.Join(dir, "nocache.env")); err != nil {
		return nil, err
	}
	found := len(c.Env) > 0
	for name, dst := range map[string]**loadtest.Report{"max": &c.Max, "max_new": &c.MaxNew, "open": &c.Open} {
		if *dst, err = readReport(filepath.Join(dir, "nocache_"+name+".json")); err != nil {
			return nil, err
		}
		found = found || *dst != nil
	}
	if b, err := readOptional(filepath.Join(dir, "nocache_wrk_mix.txt")); err != nil {
		return nil, err
	} else if b != nil {
		c.WrkMix, found = ParseWrk(string(b)), true
	}
	if !found {
		return nil, nil
	}
	return c, nil
}

// loadBenchstat reads (5)'s comparison: benchstat.env, benchstat.txt and
// benchstat.csv. It returns nil when there is no benchstat.env.
func loadBenchstat(dir string) (*BenchstatResults, error) {
	env, err := readEnv(filepath.Join(dir, "benchstat.env"))
	if err != nil || len(env) == 0 {
		return nil, err
	}
	b := &BenchstatResults{Env: env}
	if t, err := readOptional(filepath.Join(dir, "benchstat.txt")); err != nil {
		return nil, err
	} else {
		b.Text = string(t)
	}
	for name, dst := range map[string]*string{"gobench_prev.txt": &b.PrevCPU, "gobench.txt": &b.ThisCPU} {
		t, err := readOptional(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		*dst = firstCPU(string(t))
	}
	if c, err := readOptional(filepath.Join(dir, "benchstat.csv")); err != nil {
		return nil, err
	} else if c != nil {
		if b.Rows, err = ParseBenchstatCSV(string(c)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// ParseBenchstatCSV reads benchstat -format csv of two inputs: for each
// table, a "pkg:" line among the configuration lines, a line of the inputs'
// labels, a line of the units (",sec/op,CI,sec/op,CI,vs base,P"), then a
// row per benchmark and a geomean row.
func ParseBenchstatCSV(s string) ([]BenchstatRow, error) {
	var out []BenchstatRow
	pkg, unit := "", ""
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			unit = ""
			continue
		}
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p[strings.LastIndex(p, "/")+1:]
			continue
		}
		if !strings.Contains(line, ",") {
			continue // goos:, goarch:, cpu: and other configuration lines
		}
		rd := csv.NewReader(strings.NewReader(line))
		rd.FieldsPerRecord = -1
		rec, err := rd.Read()
		if err != nil {
			return nil, fmt.Errorf("benchstat csv: %q: %w", line, err)
		}
		switch {
		case rec[0] == "" && len(rec) >= 7 && rec[2] == "CI":
			unit = rec[1]
		case rec[0] == "" || rec[0] == "geomean" || unit == "":
			// the labels' line, the geomean, or a row outside a table
		case len(rec) >= 7:
			row := BenchstatRow{Pkg: pkg, Name: rec[0], Unit: unit, Delta: rec[5], P: rec[6]}
			row.Old, row.HasOld = parseCell(rec[1])
			row.New, row.HasNew = parseCell(rec[3])
			out = append(out, row)
		}
	}
	return out, nil
}

func firstCPU(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if c, ok := strings.CutPrefix(line, "cpu: "); ok {
			return strings.TrimSpace(c)
		}
	}
	return ""
}

func parseCell(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// ExtractGoBench returns the go test -bench lines of a report written by
// this program (its raw output block): the configuration lines benchstat
// groups by (goos, goarch, pkg, cpu) and the benchmark lines.
func ExtractGoBench(md string) string {
	var b strings.Builder
	for _, line := range strings.Split(md, "\n") {
		line = strings.TrimRight(line, "\r")
		if benchResult.MatchString(line) || benchConfig.MatchString(line) {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

var (
	benchConfig = regexp.MustCompile(`^(goos|goarch|pkg|cpu): \S`)
	benchResult = regexp.MustCompile(`^Benchmark\S*\s+\d+\s+[0-9.]+ \S+`)
)

// loadCluster reads (7)'s files: cluster.env, cluster_nodes.json,
// cluster_<run>.json and cluster_placement_<run>.tsv. It returns nil when
// there are none (a run from before (7), or its results dir without it).
func loadCluster(dir string) (*ClusterResults, error) {
	c := &ClusterResults{Placement: map[string]map[string]string{}}
	var err error
	if c.Env, err = readEnv(filepath.Join(dir, "cluster.env")); err != nil {
		return nil, err
	}
	found := len(c.Env) > 0
	for name, dst := range map[string]**loadtest.Report{
		"max": &c.Max, "open": &c.Open, "hot": &c.Hot, "durable_max": &c.DurableMax, "durable_open": &c.DurableOpen,
	} {
		if *dst, err = readReport(filepath.Join(dir, "cluster_"+name+".json")); err != nil {
			return nil, err
		}
		found = found || *dst != nil
	}
	if b, err := readOptional(filepath.Join(dir, "cluster_nodes.json")); err != nil {
		return nil, err
	} else if b != nil {
		var d clusterDescription
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("cluster_nodes.json: %w", err)
		}
		c.Nodes = d.Nodes
		if c.Env["seed_url"] == "" {
			c.Env["seed_url"] = d.SeedURL
		}
		if c.Env["node_timeout"] == "" {
			c.Env["node_timeout"] = d.NodeTimeout
		}
		found = true
	}
	for _, run := range []string{"max", "hot"} {
		b, err := readOptional(filepath.Join(dir, "cluster_placement_"+run+".tsv"))
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if id, master, ok := strings.Cut(strings.TrimSpace(line), "\t"); ok {
				if c.Placement[run] == nil {
					c.Placement[run] = map[string]string{}
				}
				c.Placement[run][id] = master
			}
		}
	}
	if !found {
		return nil, nil
	}
	return c, nil
}

// Masters returns the addresses of the cluster's masters at start.
func (c *ClusterResults) Masters() []string {
	var out []string
	for _, n := range c.Nodes {
		if n.Role == "master" {
			out = append(out, n.Addr)
		}
	}
	return out
}

func readOptional(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(strings.TrimSpace(string(b))) == 0) {
		return nil, nil
	}
	return b, err
}

func readEnv(path string) (map[string]string, error) {
	m := map[string]string{}
	b, err := readOptional(path)
	if err != nil || b == nil {
		return m, err
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m, nil
}

func readFloatEnv(path string) (map[string]float64, error) {
	env, err := readEnv(path)
	m := map[string]float64{}
	for k, v := range env {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			m[k] = f
		}
	}
	return m, err
}

func readCommands(path string) (map[string]string, error) {
	m := map[string]string{}
	b, err := readOptional(path)
	if err != nil || b == nil {
		return m, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok {
			m[k] = v
		}
	}
	return m, nil
}

func readReport(path string) (*loadtest.Report, error) {
	b, err := readOptional(path)
	if err != nil || b == nil {
		return nil, err
	}
	var r loadtest.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// readRedisBenchmark reads the first data line of redis-benchmark --csv:
// "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms".
func readRedisBenchmark(path string) (*RedisBenchmark, error) {
	b, err := readOptional(path)
	if err != nil || b == nil {
		return nil, err
	}
	return ParseRedisBenchmarkCSV(string(b))
}

// ParseRedisBenchmarkCSV parses redis-benchmark's --csv output.
func ParseRedisBenchmarkCSV(s string) (*RedisBenchmark, error) {
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark csv: %w", err)
	}
	for _, rec := range recs {
		if len(rec) < 8 || rec[0] == "test" {
			continue
		}
		var f [7]float64
		for i := range f {
			if f[i], err = strconv.ParseFloat(rec[i+1], 64); err != nil {
				return nil, fmt.Errorf("redis-benchmark csv: %q: %w", rec[i+1], err)
			}
		}
		return &RedisBenchmark{RPS: f[0], Avg: f[1], P50: f[3], P95: f[4], P99: f[5], Max: f[6]}, nil
	}
	return nil, fmt.Errorf("redis-benchmark csv: no result line in %q", s)
}

var (
	wrkRPS    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses:\s+([0-9]+)`)
	wrkPct    = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+(\S+)`)
)

// ParseWrk reads the requests per second and latency percentiles wrk
// printed (with --latency).
func ParseWrk(s string) *Wrk {
	w := &Wrk{Raw: s}
	if m := wrkRPS.FindStringSubmatch(s); m != nil {
		w.RPS, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := wrkNon2xx.FindStringSubmatch(s); m != nil {
		w.Non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	for _, m := range wrkPct.FindAllStringSubmatch(s, -1) {
		if m[1] == "50" {
			w.P50 = m[2]
		} else {
			w.P99 = m[2]
		}
	}
	return w
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

// ParseGoBench reads go test -bench output and returns each benchmark's
// median over its runs, in the order first seen, with the package prefixed
// from the "pkg:" lines. Every "value unit" pair of a line counts: ns/op,
// B/op and allocs/op have their fields, any other unit (b.ReportMetric)
// goes to Metrics.
func ParseGoBench(s string) []GoBenchmark {
	type acc struct {
		runs  int
		units map[string][]float64
	}
	runs := map[string]*acc{}
	var order []string
	pkg := ""
	for _, line := range strings.Split(s, "\n") {
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p[strings.LastIndex(p, "/")+1:]
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := strings.Fields(m[3])
		if len(f) < 2 || len(f)%2 != 0 {
			continue
		}
		vals := map[string]float64{}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				vals = nil
				break
			}
			vals[f[i+1]] = v
		}
		if vals == nil {
			continue
		}
		name := pkg + "." + m[1]
		a := runs[name]
		if a == nil {
			a = &acc{units: map[string][]float64{}}
			runs[name] = a
			order = append(order, name)
		}
		a.runs++
		for u, v := range vals {
			a.units[u] = append(a.units[u], v)
		}
	}
	out := make([]GoBenchmark, 0, len(order))
	for _, name := range order {
		a := runs[name]
		g := GoBenchmark{Name: name, Runs: a.runs}
		for u, v := range a.units {
			switch u {
			case "ns/op":
				g.NsPerOp = median(v)
			case "B/op":
				g.BytesPerOp = median(v)
			case "allocs/op":
				g.AllocsPerOp = median(v)
			default:
				if g.Metrics == nil {
					g.Metrics = map[string]float64{}
				}
				g.Metrics[u] = median(v)
			}
		}
		out = append(out, g)
	}
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BestExperiments returns, for n experiments, the round with the highest
// throughput: on a shared machine, the least disturbed one.
func (r *Results) BestExperiments(n int) *loadtest.Report {
	var best *loadtest.Report
	for _, rep := range r.Experiments[n] {
		if best == nil || rep.OKRate > best.OKRate {
			best = rep
		}
	}
	return best
}

// Bench returns the benchmark whose name ends with suffix, or nil.
func (r *Results) Bench(suffix string) *GoBenchmark {
	for i := range r.GoBench {
		if strings.HasSuffix(r.GoBench[i].Name, suffix) {
			return &r.GoBench[i]
		}
	}
	return nil
}
