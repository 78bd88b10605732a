package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/envflag"
	"github.com/assign-dev/assign/loadtest"
)

// Config is the configuration of one load test run.
type Config struct {
	Target string // "http" (assignd), "pg" (the PostgreSQL baseline) or "store" (the Redis store in process)

	URL        string // assignd's base URL, loopback only
	AdminToken string // to create the experiments
	JWTSecret  string // HS256 secret to sign the users' tokens

	Experiments   int      // experiments to create
	ExperimentIDs []string // existing experiments to use instead of creating any (http only)
	Prefix        string   // prefix of created experiment ids; default a fresh random one
	Cap           int64    // maximum sample size of created experiments; 0: room for every user that asks
	Sampling      float64  // sampling probability of created experiments
	Groups        []assign.Group

	Users       int
	Returning   float64
	Rate        float64 // 0: closed loop
	Connections int
	Duration    time.Duration
	Requests    int64
	Timeout     time.Duration
	Warmup      time.Duration // run the same load this long first, unmeasured, with other users
	Seed        uint64        // 0: random

	RedisURL  string // for verification (http) or the store itself (store); empty skips verification
	Namespace string // key namespace of assignd
	Verify    bool
	Memory    bool // measure the experiments' Redis memory after the run
	// RedisCommands reports Redis's commands processed per second during the
	// run (INFO stats total_commands_processed; needs RedisURL, one node).
	RedisCommands bool

	PGURL     string // the baseline's PostgreSQL
	PGCounter bool   // the baseline keeps a counter column instead of count(*)

	JSON       bool
	Progress   string         // auto | on | off
	Watch      map[string]int // processes whose CPU time to report, name -> pid
	CPUProfile string         // write the generator's CPU profile of the run here
}

// DefaultConfig returns the defaults of every flag.
func DefaultConfig() Config {
	return Config{
		Target:      "http",
		URL:         "http://127.0.0.1:8080",
		Experiments: 1,
		Sampling:    1,
		Groups:      loadtest.MustParseGroups("control:0.5,treatment:0.5"),
		Users:       100_000,
		Returning:   0.5,
		Connections: 64,
		Duration:    10 * time.Second,
		Timeout:     2 * time.Second,
		Verify:      true,
		PGURL:       "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		Progress:    "auto",
	}
}

// flagEnv pairs flags with their environment variables (shared with assignd
// where they mean the same thing).
var flagEnv = map[string]string{
	"url":         "ASSIGN_LOADTEST_URL",
	"admin-token": "ASSIGN_ADMIN_TOKEN",
	"jwt-secret":  "ASSIGN_JWT_SECRET",
	"redis-url":   "ASSIGN_LOADTEST_REDIS_URL",
	"namespace":   "ASSIGN_NAMESPACE",
	"pg-url":      "ASSIGN_LOADTEST_PG_URL",
}

// ParseFlags fills c from args and the environment (flags win).
func (c *Config) ParseFlags(args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("assign-loadtest", flag.ContinueOnError)
	var ids, groups, watch string
	groups = "control:0.5,treatment:0.5"
	fs.StringVar(&c.Target, "target", c.Target, "what to load: http (assignd), pg (the naive PostgreSQL baseline), store (the Redis store in process, no HTTP)")
	fs.StringVar(&c.URL, "url", c.URL, "assignd's base URL (loopback only)")
	fs.StringVar(&c.AdminToken, "admin-token", c.AdminToken, "assignd admin token, to create the experiments")
	fs.StringVar(&c.JWTSecret, "jwt-secret", c.JWTSecret, "HS256 secret to sign the users' tokens with (assignd's -jwt-secret)")
	fs.IntVar(&c.Experiments, "experiments", c.Experiments, "number of experiments to create")
	fs.StringVar(&ids, "experiment-ids", "", "comma-separated ids of existing experiments to use instead of creating any (http only)")
	fs.StringVar(&c.Prefix, "prefix", c.Prefix, "prefix of created experiment ids (default: lt-<random>)")
	fs.Int64Var(&c.Cap, "cap", c.Cap, "maximum sample size of each created experiment (0: room for every user that asks, users/experiments rounded up; the store sizes its member buckets from it)")
	fs.Float64Var(&c.Sampling, "sampling", c.Sampling, "sampling probability of each created experiment")
	fs.StringVar(&groups, "groups", groups, "groups of each created experiment, name:probability,...")
	fs.IntVar(&c.Users, "users", c.Users, "distinct users; user u asks about experiment u mod N")
	fs.Float64Var(&c.Returning, "returning", c.Returning, "fraction of requests from returning users (0 to 1)")
	fs.Float64Var(&c.Rate, "rate", c.Rate, "open loop: requests per second on a fixed schedule; 0 runs a closed loop at maximum throughput")
	fs.IntVar(&c.Connections, "connections", c.Connections, "concurrent connections (workers)")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "how long to run (at most 1h); 0 with -requests runs until the count")
	fs.Int64Var(&c.Requests, "requests", c.Requests, "stop after this many requests (0: no limit)")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "timeout of one request")
	fs.DurationVar(&c.Warmup, "warmup", c.Warmup, "first run the same load this long, unmeasured, with other users (warms connections, pools, caches)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the user ids and picks (0: random)")
	fs.StringVar(&c.RedisURL, "redis-url", c.RedisURL, "Redis of assignd, to verify the invariants after the run (loopback only; empty: no verification); the store itself with -target store")
	fs.StringVar(&c.Namespace, "namespace", c.Namespace, "assignd's key namespace (its -namespace)")
	fs.BoolVar(&c.Verify, "verify", c.Verify, "verify the invariants after the run (needs -redis-url for http)")
	fs.BoolVar(&c.Memory, "memory", c.Memory, "after the run, measure the experiments' Redis memory per member (MEMORY USAGE; needs -redis-url)")
	fs.BoolVar(&c.RedisCommands, "redis-commands", c.RedisCommands, "report the commands per second Redis processed during the run, every client's (INFO stats total_commands_processed at the run's start and end, warm-up and verification left out; needs -redis-url; a single node, not a cluster)")
	fs.StringVar(&c.PGURL, "pg-url", c.PGURL, "PostgreSQL of the baseline (-target pg; loopback only)")
	fs.BoolVar(&c.PGCounter, "pg-counter", c.PGCounter, "baseline: keep a counter column instead of count(*) of the members")
	fs.BoolVar(&c.JSON, "json", c.JSON, "print the report as JSON")
	fs.StringVar(&c.CPUProfile, "cpuprofile", c.CPUProfile, "write the generator's own CPU profile of the run to this file (go tool pprof)")
	fs.StringVar(&watch, "watch", "", "report the CPU time of these processes during the run: name=pid,name=pid (e.g. assignd=1234,redis=99)")
	fs.StringVar(&c.Progress, "progress", c.Progress, "progress line: auto (when stdout is a terminal), on, off")
	envflag.SetUsage(fs, flagEnv, "Usage: assign-loadtest [flags]\n\nDrives assignd (or the PostgreSQL baseline) on this machine and reports throughput, latency and decisions;\nthen verifies caps, counts and stickiness in the store. Exit 1 when an invariant is broken.\n")
	if err := envflag.Parse(fs, flagEnv, args, getenv); err != nil {
		return err
	}
	c.ExperimentIDs = nil
	for _, id := range strings.Split(ids, ",") {
		if id = strings.TrimSpace(id); id != "" {
			c.ExperimentIDs = append(c.ExperimentIDs, id)
		}
	}
	c.Watch = nil
	for _, part := range strings.Split(watch, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, pid, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(pid)
		if !ok || name == "" || err != nil || n <= 0 {
			return fmt.Errorf("-watch: %q: want name=pid", part)
		}
		if c.Watch == nil {
			c.Watch = map[string]int{}
		}
		c.Watch[name] = n
	}
	g, err := loadtest.ParseGroups(groups)
	if err != nil {
		return err
	}
	c.Groups = g
	return c.Validate()
}

// Validate checks what can be checked before connecting anywhere.
func (c *Config) Validate() error {
	switch c.Target {
	case "http":
		if _, err := loadtest.CheckLoopbackURL(c.URL, "http"); err != nil {
			return err
		} else if c.JWTSecret == "" {
			return fmt.Errorf("-jwt-secret is required to sign the users' tokens")
		} else if len(c.ExperimentIDs) == 0 && c.AdminToken == "" {
			return fmt.Errorf("-admin-token is required to create experiments (or give -experiment-ids)")
		}
	case "pg":
		if _, err := loadtest.CheckLoopbackURL(c.PGURL, "postgres", "postgresql"); err != nil {
			return err
		}
	case "store":
		if c.RedisURL == "" {
			return fmt.Errorf("-target store needs -redis-url")
		}
	default:
		return fmt.Errorf("-target must be http, pg or store")
	}
	if c.Memory && (c.Target == "pg" || c.RedisURL == "") {
		return fmt.Errorf("-memory needs a Redis target and -redis-url")
	}
	if c.RedisCommands && (c.Target == "pg" || c.RedisURL == "") {
		return fmt.Errorf("-redis-commands needs a Redis target and -redis-url")
	}
	if len(c.ExperimentIDs) > 0 && c.Target != "http" {
		return fmt.Errorf("-experiment-ids works with -target http only")
	}
	if c.RedisURL != "" {
		if _, err := loadtest.CheckLoopbackURL(c.RedisURL, "redis"); err != nil {
			return err
		}
	}
	if len(c.ExperimentIDs) == 0 {
		if c.Experiments < 1 || c.Experiments > 100_000 {
			return fmt.Errorf("-experiments must be between 1 and 100000")
		}
		if err := assign.ValidateSampleSize(c.Cap); c.Cap != 0 && err != nil {
			return fmt.Errorf("-cap: %s", assign.ErrorMessage(err))
		}
		if err := assign.ValidateSamplingProbability(c.Sampling); err != nil {
			return fmt.Errorf("-sampling: %s", assign.ErrorMessage(err))
		}
	}
	if c.Users < 1 || c.Users > loadtest.MaxUsers {
		return fmt.Errorf("-users must be between 1 and %d", loadtest.MaxUsers)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("-timeout must be positive")
	}
	if c.Warmup < 0 || c.Warmup > time.Minute {
		return fmt.Errorf("-warmup must be between 0 and 1m")
	}
	switch c.Progress {
	case "auto", "on", "off":
	default:
		return fmt.Errorf("-progress must be auto, on or off")
	}
	// Bounds on duration, requests, rate and connections are checked by loadtest.Run.
	if c.Duration == 0 && c.Requests == 0 {
		return fmt.Errorf("set -duration or -requests: a run must stop by itself")
	} else if c.Duration > loadtest.MaxDuration {
		return fmt.Errorf("-duration is at most %s", loadtest.MaxDuration)
	}
	return nil
}
