package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/assign-dev/assign/loadtest"
)

// clusterCPURatio is issue 9's target: the cluster's CPU per decision
// (assignd and Redis) within 15% of the single node's.
const clusterCPURatio = 1.15

// The names bench/run.sh gives the watched processes (-watch): "assignd",
// "redis" (the single node), "redis-master-<port>" and
// "redis-replica-<port>" (every node of the cluster).
func isAssignd(name string) bool { return name == "assignd" }
func isRedis(name string) bool   { return name == "redis" || strings.HasPrefix(name, "redis-") }
func isMaster(name string) bool  { return name == "redis" || strings.HasPrefix(name, "redis-master-") }
func isReplica(name string) bool { return strings.HasPrefix(name, "redis-replica-") }
func isServer(name string) bool  { return isAssignd(name) || isRedis(name) }
func isGenerator(name string) bool {
	return name == "generator"
}

// cpuSum returns the CPU-seconds of the processes that match, and whether
// any was watched.
func cpuSum(c *loadtest.CPUUsage, match func(string) bool) (float64, bool) {
	if c == nil {
		return 0, false
	}
	var s float64
	found := false
	for k, v := range c.Processes {
		if match(k) {
			s, found = s+v, true
		}
	}
	return s, found
}

// per10k returns the cores the matching processes took per 10,000
// decisions/s during a run: their CPU-seconds × 10,000 / decisions.
func per10k(rep *loadtest.Report, match func(string) bool) (float64, bool) {
	if rep == nil || rep.OK == 0 {
		return 0, false
	}
	s, ok := cpuSum(rep.CPU, match)
	return s * 1e4 / float64(rep.OK), ok
}

// nodeCPU returns the cluster nodes of one role watched during a run, by
// port, in cores, busiest first.
func nodeCPU(c *loadtest.CPUUsage, prefix string) []nodeCores {
	if c == nil || c.Wall <= 0 {
		return nil
	}
	var out []nodeCores
	for k, v := range c.Processes {
		if port, ok := strings.CutPrefix(k, prefix); ok {
			out = append(out, nodeCores{port: port, cores: v / c.Wall, seconds: v})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].cores != out[j].cores {
			return out[i].cores > out[j].cores
		}
		return out[i].port < out[j].port
	})
	return out
}

type nodeCores struct {
	port           string
	cores, seconds float64
}

// clusterCPU is the part of a run's CPU line about the cluster's nodes:
// "; redis masters 0.60 (:7001 0.30, ...); redis replicas 0.10 (...)".
func clusterCPU(c *loadtest.CPUUsage) string {
	var b strings.Builder
	for _, role := range []string{"master", "replica"} {
		nodes := nodeCPU(c, "redis-"+role+"-")
		if len(nodes) == 0 {
			continue
		}
		var sum float64
		parts := make([]string, len(nodes))
		for i, n := range nodes {
			sum += n.cores
			parts[i] = fmt.Sprintf(":%s %.2f", n.port, n.cores)
		}
		fmt.Fprintf(&b, "; redis %ss %.2f (%s)", role, sum, strings.Join(parts, ", "))
	}
	return b.String()
}

// clusterRatio returns the cluster's CPU per decision of assignd and Redis
// in (2) over the single node's.
func (r *Results) clusterRatio() (cluster, single, ratio float64, ok bool) {
	if r.Cluster == nil {
		return 0, 0, 0, false
	}
	s, ok1 := per10k(r.Max, isServer)
	c, ok2 := per10k(r.Cluster.Max, isServer)
	if !ok1 || !ok2 || s <= 0 {
		return 0, 0, 0, false
	}
	return c, s, c / s, true
}

// clusterVerdict is row 7 of the targets table.
func (r *Results) clusterVerdict(w writer) {
	const what = "Redis Cluster (3 masters, 3 replicas), run (2): CPU per decision of `assignd` + Redis, in cores per 10,000 decisions/s"
	c, s, ratio, ok := r.clusterRatio()
	if !ok {
		why := "not measured"
		if r.Cluster != nil && r.Cluster.Env["skipped"] != "" {
			why += " (" + r.Cluster.Env["skipped"] + ")"
		}
		w("| 7 | %s | | ≤ %.2f× the single node | %s |\n", what, clusterCPURatio, why)
		return
	}
	w("| 7 | %s | cluster **%.2f** vs single node %.2f = **%.2f×**; throughput %s vs %s decisions/s | ≤ %.2f× the single node | %s (%.2f×) |\n",
		what, c, s, ratio, num(r.Cluster.Max.OKRate), num(r.maxRate()), clusterCPURatio, verdict(true, ratio <= clusterCPURatio), ratio)
}

// cell formats a value of the comparison table, "-" when not measured.
type cell struct {
	v  float64
	ok bool
}

func cellOf(v float64, ok bool) cell { return cell{v, ok} }

func rateCell(rep *loadtest.Report) cell {
	if rep == nil {
		return cell{}
	}
	return cell{rep.OKRate, true}
}

func p99Cell(rep *loadtest.Report) cell {
	if rep == nil {
		return cell{}
	}
	return cell{rep.Latency.P99, true}
}

func ratioCell(a, b cell) string {
	if !a.ok || !b.ok || b.v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a.v/b.v)
}

func (c cell) format(f func(float64) string) string {
	if !c.ok {
		return "-"
	}
	return f(c.v)
}

func cores2(v float64) string { return fmt.Sprintf("%.2f", v) }
func ms2(v float64) string    { return fmt.Sprintf("%.2f ms", v) }

func (r *Results) renderCluster(w writer) {
	w("## 7. Redis Cluster\n\n")
	c := r.Cluster
	if c == nil {
		w("Not measured (this run had no cluster part).\n\n")
		return
	}
	if c.Max == nil {
		why := c.Env["skipped"]
		if why == "" {
			why = "see the run's log"
		}
		w("Not measured: %s.\n\n", why)
		return
	}
	masters := c.Masters()
	w("A local Redis Cluster of %d masters with one replica each (`assign-devcluster`: Debian's redis-server %s on free ports of this machine, cluster-node-timeout %s), ",
		max(len(masters), 3), orDash(c.Env["redis"]), orDash(c.Env["node_timeout"]))
	w("and a second `assignd` whose `-redis-url` names one seed node: it finds the cluster with INFO cluster and runs one full-duplex autopipeline per master. ")
	w("The runs of (2) and (3) again, with the same flags, right after them; the CPU of `assignd` and of every redis-server of the cluster, masters and replicas, is watched during each run. ")
	if a, b := c.Env["loadavg_start"], c.Env["loadavg_end"]; a != "" {
		w("Load average at the start of this part %s, at its end %s.", a, orDash(b))
	}
	w("\n\n%s\n", r.command("cluster_start"))
	w("Server under test:\n\n%s\n", r.command("cluster_assignd"))

	// The nodes, and where the experiments fell.
	if len(c.Nodes) > 0 {
		byMaster := map[string][]string{}
		for id, m := range c.Placement["max"] {
			byMaster[m] = append(byMaster[m], id)
		}
		hot := map[string]string{}
		for id, m := range c.Placement["hot"] {
			hot[m] = id
		}
		w("| node | role at start | experiments of (2) on it | the hot experiment |\n|---|---|---|---|\n")
		for _, n := range c.Nodes {
			role, exps := "master", "-"
			if n.Role != "master" {
				role = "replica of " + n.Master
			} else if ids := byMaster[n.Addr]; len(ids) > 0 {
				sort.Strings(ids)
				exps = fmt.Sprintf("%d (%s)", len(ids), strings.Join(ids, ", "))
			} else if len(c.Placement["max"]) > 0 {
				exps = "0"
			}
			w("| %s | %s | %s | %s |\n", n.Addr, role, exps, orDash(hot[n.Addr]))
		}
		w("\n")
	}

	r.renderClusterTable(w)
	r.renderClusterVerdict(w)
	r.renderSeparateMachines(w)

	w("### 7a. The cluster at maximum throughput (the flags of (2))\n\n")
	r.renderRun(w, "cluster_max", c.Max)
	w("### 7b. The cluster at half its maximum rate, open loop (the flags of (3))\n\n")
	r.renderRun(w, "cluster_open", c.Open)
	r.renderHot(w)
	r.renderDurable(w)
}

func (r *Results) renderClusterTable(w writer) {
	c := r.Cluster
	w("| | single node, (2) and (3) | cluster | cluster / single | cluster, `-redis-min-replicas 1` | min-replicas / cluster |\n|---|---|---|---|---|---|\n")
	row := func(label string, s, cl, d cell, f func(float64) string) {
		w("| %s | %s | %s | %s | %s | %s |\n", label, s.format(f), cl.format(f), ratioCell(cl, s), d.format(f), ratioCell(d, cl))
	}
	perRow := func(label string, match func(string) bool, s, cl, d *loadtest.Report) {
		row(label, cellOf(per10k(s, match)), cellOf(per10k(cl, match)), cellOf(per10k(d, match)), cores2)
	}
	row("maximum throughput (2), decisions/s", rateCell(r.Max), rateCell(c.Max), rateCell(c.DurableMax), num)
	half := func(rep *loadtest.Report) cell {
		if rep == nil {
			return cell{}
		}
		return cell{rep.TargetRate, true}
	}
	row("half load (3), requests/s", half(r.Open), half(c.Open), half(c.DurableOpen), num)
	row("**p99 at half load (3)**, from the intended send time", p99Cell(r.Open), p99Cell(c.Open), p99Cell(c.DurableOpen), ms2)
	p50 := func(rep *loadtest.Report) cell {
		if rep == nil {
			return cell{}
		}
		return cell{rep.Latency.P50, true}
	}
	row("p50 at half load (3)", p50(r.Open), p50(c.Open), p50(c.DurableOpen), ms2)
	w("| *CPU per decision, in cores per 10,000 decisions/s, during (2):* | | | | | |\n")
	perRow("`assignd`", isAssignd, r.Max, c.Max, c.DurableMax)
	perRow("Redis, every redis-server (single node: its one; cluster: 3 masters + 3 replicas)", isRedis, r.Max, c.Max, c.DurableMax)
	perRow("Redis masters only", isMaster, r.Max, c.Max, c.DurableMax)
	perRow("Redis replicas only", isReplica, r.Max, c.Max, c.DurableMax)
	perRow("**`assignd` + Redis** (the target's measure)", isServer, r.Max, c.Max, c.DurableMax)
	perRow("the generator (`assign-loadtest`)", isGenerator, r.Max, c.Max, c.DurableMax)
	w("| *during (3), at half load:* | | | | | |\n")
	perRow("`assignd` + Redis, cores per 10,000 decisions/s", isServer, r.Open, c.Open, c.DurableOpen)
	other := func(rep *loadtest.Report) cell {
		if rep == nil || rep.CPU == nil || rep.CPU.Wall <= 0 {
			return cell{}
		}
		return cell{otherCores(rep.CPU), true}
	}
	w("| *the machine during (2):* | | | | | |\n")
	busy := func(rep *loadtest.Report) cell {
		if rep == nil || rep.CPU == nil || rep.CPU.Wall <= 0 {
			return cell{}
		}
		return cell{rep.CPU.Busy / rep.CPU.Wall, true}
	}
	row("cores busy, every process", busy(r.Max), busy(c.Max), busy(c.DurableMax), cores2)
	row("cores taken by other processes (not watched)", other(r.Max), other(c.Max), other(c.DurableMax), cores2)
	failed := func(reps ...*loadtest.Report) cell {
		var n int64
		for _, rep := range reps {
			if rep == nil {
				return cell{}
			}
			n += rep.Failed + rep.Dropped
		}
		return cell{float64(n), true}
	}
	row("failed or dropped requests, (2) + (3)", failed(r.Max, r.Open), failed(c.Max, c.Open), failed(c.DurableMax, c.DurableOpen), num)
	w("\n")
}

func (r *Results) renderClusterVerdict(w writer) {
	c, s, ratio, ok := r.clusterRatio()
	if !ok {
		w("Target (issue 9), the cluster's CPU per decision of `assignd` and Redis within 15%% of the single node's: not measured (the CPU of a run is missing).\n\n")
		return
	}
	v := "met"
	if ratio > clusterCPURatio {
		v = "NOT MET"
	}
	w("**Target (issue 9): the cluster's CPU per decision, `assignd` + Redis, within 15%% of the single node's: %.2f / %.2f cores per 10,000 decisions/s = %.2f×, %s.** ",
		c, s, ratio, v)
	if m, okM := per10k(r.Cluster.Max, func(n string) bool { return isAssignd(n) || isMaster(n) }); okM {
		w("Counting the masters only (the single node has no replica to feed): %.2f×. ", m/s)
	}
	a1, _ := per10k(r.Max, isAssignd)
	a2, _ := per10k(r.Cluster.Max, isAssignd)
	r1, _ := per10k(r.Max, isRedis)
	r2, _ := per10k(r.Cluster.Max, isRedis)
	w("By process: `assignd` %.2f → %.2f (%s), Redis %.2f → %.2f (%s).", a1, a2, ratioText(a2, a1), r1, r2, ratioText(r2, r1))
	if h, okH := per10k(r.Cluster.Hot, isServer); okH {
		w(" With the whole load on one master instead (7c), the cluster took %.2f cores per 10,000 decisions/s, %.2f× the single node's: ", h, h/s)
		if h < c {
			w("the extra CPU comes with spreading the calls over the masters (each master's pipeline carries a share of them, in smaller batches, so more round trips and system calls per decision in `assignd` and in Redis) and with the replicas; an inference from these figures, not measured directly.")
		} else {
			w("spreading the calls over the masters is not what costs the extra CPU here.")
		}
	}
	w("\n\n")
}

func ratioText(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// renderSeparateMachines estimates, from the CPU measured, what the cluster
// would give with its processes on machines of their own.
func (r *Results) renderSeparateMachines(w writer) {
	c := r.Cluster
	cpu := c.Max.CPU
	if cpu == nil || cpu.Wall <= 0 || c.Max.OK == 0 {
		return
	}
	nodes := nodeCPU(cpu, "redis-master-")
	w("**What separate machines would add.** Here the %d redis-servers of the cluster, its `assignd` and the generator share this machine's %.0f cores (%.2f of them busy during the cluster's (2)): ",
		len(c.Nodes), cpu.Cores, cpu.Busy/cpu.Wall)
	w("on one machine the cluster cannot give more throughput than the single node, only spend the CPU of its extra processes and hops. ")
	w("With each process on cores of its own, the CPU per decision measured above gives these estimates (each process keeping its CPU per decision; a less loaded Redis batches fewer calls per pipeline and costs somewhat more per call, so they are upper bounds):\n\n")
	if s, ok := per10k(r.Max, isRedis); ok && s > 0 {
		w("- Redis runs commands on one thread, so one core is a node's ceiling. The single node at %.2f cores per 10,000 decisions/s: about **%s decisions/s**.", s, num(1e4/s))
		if len(nodes) > 0 {
			var sum float64
			for _, n := range nodes {
				sum += n.seconds
			}
			busiest := nodes[0].seconds * 1e4 / float64(c.Max.OK)
			w(" The cluster's busiest master (:%s) at %.2f: about **%s decisions/s** with the 10 experiments as they fell on the masters (table above), ", nodes[0].port, busiest, num(1e4/busiest))
			w("and about **%s decisions/s** with many experiments spread evenly (%d masters at %.2f cores per 10,000/s between them): the masters' ceilings add up, one per shard.\n",
				num(float64(len(nodes))*1e4/(sum*1e4/float64(c.Max.OK))), len(nodes), sum*1e4/float64(c.Max.OK))
		} else {
			w("\n")
		}
	}
	if a, ok := per10k(c.Max, isAssignd); ok && a > 0 {
		w("- `assignd` is stateless: %.2f cores per 10,000 decisions/s is about %s decisions/s per core, and more `assignd` processes behind a load balancer add up; past one Redis node's ceiling, the masters are what a deployment adds.\n", a, num(1e4/a))
	}
	if rep, ok := per10k(c.Max, isReplica); ok {
		w("- The replicas' %.2f cores per 10,000 decisions/s (replication) leave the masters' machines.\n", rep)
	}
	w("- A real network adds its round trips to every latency here, which loopback hides: client → `assignd` → master, and master → replica with `-redis-min-replicas`.\n\n")
}

func (r *Results) renderHot(w writer) {
	c := r.Cluster
	w("### 7c. One hot experiment (the flags of (2) with `-experiments 1`)\n\n")
	if c.Hot == nil {
		w("Not measured (see the run's log).\n\n%s\n", r.command("cluster_hot"))
		return
	}
	where := ""
	for _, m := range c.Placement["hot"] {
		where = " (" + m + ")"
	}
	w("Every request asks about one experiment, whose keys share one hash slot: one master%s runs every script call, and the other masters idle.\n\n", where)
	busiest := func(rep *loadtest.Report) (nodeCores, bool) {
		if rep == nil {
			return nodeCores{}, false
		}
		n := nodeCPU(rep.CPU, "redis-master-")
		if len(n) == 0 {
			return nodeCores{}, false
		}
		return n[0], true
	}
	w("| | 10 experiments, (2) on the cluster | 1 experiment | 1 / 10 |\n|---|---|---|---|\n")
	w("| decisions/s | %s | **%s** | %s |\n", num(c.Max.OKRate), num(c.Hot.OKRate), ratioText(c.Hot.OKRate, c.Max.OKRate))
	w("| p99 | %.2f ms | %.2f ms | %s |\n", c.Max.Latency.P99, c.Hot.Latency.P99, ratioText(c.Hot.Latency.P99, c.Max.Latency.P99))
	b10, ok10 := busiest(c.Max)
	b1, ok1 := busiest(c.Hot)
	if ok10 && ok1 {
		w("| busiest master, cores | %.2f (:%s) | %.2f (:%s) | %s |\n", b10.cores, b10.port, b1.cores, b1.port, ratioText(b1.cores, b10.cores))
		rest := 0.0
		for _, n := range nodeCPU(c.Hot.CPU, "redis-master-")[1:] {
			rest += n.cores
		}
		w("| the other masters, cores | | %.2f together | |\n", rest)
	}
	a10, _ := per10k(c.Max, isServer)
	a1, _ := per10k(c.Hot, isServer)
	w("| `assignd` + Redis, cores per 10,000 decisions/s | %.2f | %.2f | %s |\n\n", a10, a1, ratioText(a1, a10))
	if ok1 && c.Hot.OK > 0 && b1.seconds > 0 {
		per := b1.seconds * 1e4 / float64(c.Hot.OK)
		w("What one hot experiment can take: on this machine, %s decisions/s, the same 2 cores as every run. ", num(c.Hot.OKRate))
		w("With its master on a core of its own, at the %.2f cores per 10,000 decisions/s that master took here, about **%s decisions/s**: one shard's ceiling", per, num(1e4/per))
		if s, ok := per10k(r.Max, isRedis); ok && s > 0 {
			w(", as for the single node (about %s decisions/s above)", num(1e4/s))
		}
		w(". ")
		w("A cluster adds shards for more experiments, not capacity to one experiment.")
		if one, ten := r.BestExperiments(1), r.BestExperiments(10); one != nil && ten != nil {
			w(" (On the single node, (6) measured %s decisions/s with 1 experiment and %s with 10.)", num(one.OKRate), num(ten.OKRate))
		}
		w("\n\n")
	}
	r.renderRun(w, "cluster_hot", c.Hot)
}

func (r *Results) renderDurable(w writer) {
	c := r.Cluster
	w("### 7d. `-redis-min-replicas 1`: each enrollment waits for a replica\n\n")
	if c.DurableMax == nil {
		why := c.Env["durable_skipped"]
		if why == "" {
			why = "see the run's log"
		}
		w("Not measured: %s.\n\n", why)
		return
	}
	w("The cluster's `assignd` restarted with `-redis-min-replicas 1`: each enrollment's script call is followed by `WAIT 1 <its deadline>` on the same connection of its master, in a round trip of its own (outside the autopipeline), and is answered once a replica holds the member; none by the deadline answers 503.\n\n")
	w("%s\n", r.command("cluster_durable_assignd"))
	s1, _ := per10k(c.Max, isServer)
	s2, ok := per10k(c.DurableMax, isServer)
	w("Cost against the cluster's runs without it: maximum throughput %s → **%s decisions/s** (%s)", num(c.Max.OKRate), num(c.DurableMax.OKRate), ratioText(c.DurableMax.OKRate, c.Max.OKRate))
	if c.Open != nil && c.DurableOpen != nil {
		w("; p99 at half load %.2f → **%.2f ms** (at %s/s instead of %s/s)", c.Open.Latency.P99, c.DurableOpen.Latency.P99, num(c.DurableOpen.TargetRate), num(c.Open.TargetRate))
	}
	if ok && s1 > 0 {
		w("; CPU of `assignd` + Redis per 10,000 decisions/s %.2f → **%.2f** (%+.0f%%)", s1, s2, 100*(s2/s1-1))
		a1, _ := per10k(c.Max, isAssignd)
		a2, _ := per10k(c.DurableMax, isAssignd)
		r1, _ := per10k(c.Max, isRedis)
		r2, _ := per10k(c.DurableMax, isRedis)
		w(": `assignd` %.2f → %.2f, Redis %.2f → %.2f", a1, a2, r1, r2)
	}
	failed, of503 := c.DurableMax.Failed, c.DurableMax.Errors["status_503"]
	if c.DurableOpen != nil {
		failed, of503 = failed+c.DurableOpen.Failed, of503+c.DurableOpen.Errors["status_503"]
	}
	w("; %s requests failed", num(float64(failed)))
	if failed > 0 {
		if of503 == failed {
			w(" (all answered 503")
		} else {
			w(" (%s of them answered 503", num(float64(of503)))
		}
		w(": an enrollment whose script call and WAIT are not done by `assignd`'s enrollment deadline, `-enroll-timeout`, 50 ms by default, answers 503 with the fallback)")
	}
	w(".\n\n")
	w("#### At maximum throughput (the flags of (2))\n\n")
	r.renderRun(w, "cluster_durable_max", c.DurableMax)
	w("#### At half its maximum rate, open loop (the flags of (3))\n\n")
	r.renderRun(w, "cluster_durable_open", c.DurableOpen)
}
