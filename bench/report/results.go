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
	PG                  map[string]*loadtest.Report // "count", "counter"
	Experiments         map[int][]*loadtest.Report  // by number of experiments, one per round
	Wrk                 *Wrk
	// WrkBatch5 is wrk with the multi-experiment form, 5 ids a call.
	WrkBatch5  *Wrk
	GoBench    []GoBenchmark
	GoBenchRaw string
	Cluster    *ClusterResults // (7); nil when the run had no cluster part
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
	for name, dst := range map[string]**loadtest.Report{"max": &r.Max, "open": &r.Open, "fill": &r.Fill} {
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
	if b, err := readOptional(filepath.Join(dir, "gobench.txt")); err != nil {
		return nil, err
	} else if b != nil {
		r.GoBenchRaw = string(b)
		r.GoBench = ParseGoBench(string(b))
	}
	return r, nil
}

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

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([0-9.]+) ns/op(?:\s+([0-9.]+) B/op)?(?:\s+([0-9.]+) allocs/op)?`)

// ParseGoBench reads go test -bench output and returns each benchmark's
// median over its runs, in the order first seen, with the package prefixed
// from the "pkg:" lines.
func ParseGoBench(s string) []GoBenchmark {
	type acc struct{ ns, b, a []float64 }
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
		name := pkg + "." + m[1]
		a := runs[name]
		if a == nil {
			a = &acc{}
			runs[name] = a
			order = append(order, name)
		}
		f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		a.ns = append(a.ns, f(m[3]))
		a.b = append(a.b, f(m[4]))
		a.a = append(a.a, f(m[5]))
	}
	out := make([]GoBenchmark, 0, len(order))
	for _, name := range order {
		a := runs[name]
		out = append(out, GoBenchmark{Name: name, Runs: len(a.ns), NsPerOp: median(a.ns), BytesPerOp: median(a.b), AllocsPerOp: median(a.a)})
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
