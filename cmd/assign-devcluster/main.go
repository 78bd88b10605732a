// Command assign-devcluster starts a local Redis Cluster (redis-server
// processes on free ports) for trying assign against Redis Cluster, prints
// how to point assign at it and how to provoke a failover, and stops it on
// SIGINT/SIGTERM. `make cluster` runs it.
//
// With -json it prints instead one line of JSON once the cluster is up, for
// scripts (bench/run.sh):
//
//	{"seed_url":"redis://127.0.0.1:P1","url":"redis://127.0.0.1:P1?addr=…","dir":"…",
//	 "node_timeout":"2s","nodes":[{"addr":"127.0.0.1:P1","port":P1,"pid":123,"role":"master"},
//	 …,{"addr":"127.0.0.1:P4","port":P4,"pid":126,"role":"replica","master":"127.0.0.1:P1"},…]}
//
// Roles are those at start (masters first, then replicas).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/assign-dev/assign/internal/rediscluster"
)

func main() {
	masters := flag.Int("masters", 3, "number of masters")
	replicas := flag.Int("replicas", 1, "replicas per master (0 for none)")
	nodeTimeout := flag.Duration("node-timeout", 2*time.Second, "cluster-node-timeout: how long a dead master goes unnoticed before its replica takes over")
	dir := flag.String("dir", "", "working dir for nodes-<port>.conf and <port>.log (kept); default a temp dir removed on exit")
	verbose := flag.Bool("v", false, "log every node start")
	asJSON := flag.Bool("json", false, "print one line of JSON (seed_url, url, dir, nodes with addr, port, pid, role, master) once the cluster is up, instead of the instructions")
	flag.Parse()
	log.SetFlags(0)

	r := *replicas
	if r == 0 {
		r = -1 // rediscluster.Options: 0 means the default (1)
	}
	o := rediscluster.Options{Masters: *masters, ReplicasPerMaster: r, NodeTimeout: *nodeTimeout, Dir: *dir}
	if *verbose {
		o.Logf = log.Printf
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	began := time.Now()
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	c, err := rediscluster.Start(startCtx, o)
	cancel()
	if err != nil {
		log.Fatalf("assign-devcluster: %v", err)
	}
	defer c.Stop()

	addrs := c.Addrs()
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(describe(c, addrs, *masters, *nodeTimeout)); err != nil {
			log.Fatalf("assign-devcluster: %v", err)
		}
		<-ctx.Done()
		if err := c.Stop(); err != nil {
			log.Fatalf("assign-devcluster: %v", err)
		}
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Redis Cluster up in %v: %d masters, %d replicas each (cluster-node-timeout %v)\n\n",
		time.Since(began).Round(time.Millisecond), *masters, max(*replicas, 0), *nodeTimeout)
	for i, a := range addrs {
		role := "master"
		if i >= *masters {
			role = fmt.Sprintf("replica of %s", addrs[(i-*masters)%*masters])
		}
		fmt.Fprintf(&b, "  %-16s pid %-7d %s\n", a, c.PID(a), role)
	}
	fmt.Fprintf(&b, "\nlogs and nodes.conf: %s\n\n", c.Dir())
	fmt.Fprintf(&b, "point assign at it with either form:\n")
	fmt.Fprintf(&b, "  -redis-url '%s'\n", c.SeedURL())
	fmt.Fprintf(&b, "  -redis-url '%s'\n\n", c.URL())
	fmt.Fprintf(&b, "watch it:        redis-cli -c -p %s cluster nodes\n", port(addrs[0]))
	fmt.Fprintf(&b, "try a failover:  kill -9 %d    # the master %s; its replica takes over after ~%v\n", c.PID(addrs[0]), addrs[0], *nodeTimeout)
	fmt.Fprintf(&b, "                 (a killed node is not restarted; restart this command for a fresh cluster)\n\n")
	fmt.Fprintf(&b, "Ctrl-C stops the cluster.\n")
	fmt.Print(b.String())

	<-ctx.Done()
	fmt.Println("\nstopping the cluster")
	if err := c.Stop(); err != nil {
		log.Fatalf("assign-devcluster: %v", err)
	}
}

// Description is what -json prints.
type Description struct {
	SeedURL     string `json:"seed_url"`
	URL         string `json:"url"`
	Dir         string `json:"dir"`
	NodeTimeout string `json:"node_timeout"`
	Nodes       []Node `json:"nodes"`
}

// Node is one redis-server of the cluster, with its role at start.
type Node struct {
	Addr   string `json:"addr"`
	Port   int    `json:"port"`
	PID    int    `json:"pid"`
	Role   string `json:"role"`             // "master" or "replica"
	Master string `json:"master,omitempty"` // a replica's master
}

func describe(c *rediscluster.Cluster, addrs []string, masters int, nodeTimeout time.Duration) Description {
	d := Description{SeedURL: c.SeedURL(), URL: c.URL(), Dir: c.Dir(), NodeTimeout: nodeTimeout.String()}
	for i, a := range addrs {
		n := Node{Addr: a, PID: c.PID(a), Role: "master"}
		n.Port, _ = strconv.Atoi(port(a))
		if i >= masters {
			n.Role, n.Master = "replica", addrs[(i-masters)%masters]
		}
		d.Nodes = append(d.Nodes, n)
	}
	return d
}

func port(addr string) string {
	return addr[strings.LastIndexByte(addr, ':')+1:]
}
