package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/loadtest"
	"github.com/assign-dev/assign/redisstore"
)

// Main is the program, apart from main() so tests can run it in process.
type Main struct {
	Config Config
	Stdout io.Writer // the report (and the progress line on a terminal)
	Stderr io.Writer // what it is doing before and after the run

	// IsTerminal reports whether Stdout is a terminal; nil checks os.Stdout.
	IsTerminal func() bool
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Stdout: os.Stdout, Stderr: os.Stderr}
}

// ParseFlags parses the command line into m.Config.
func (m *Main) ParseFlags(args []string, getenv func(string) string) error {
	return m.Config.ParseFlags(args, getenv)
}

// Run prepares the population, runs the load, verifies and writes the report.
func (m *Main) Run(ctx context.Context) (*loadtest.Report, error) {
	c := m.Config
	if err := c.Validate(); err != nil {
		return nil, err
	}
	seed := c.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	// No more users can be asked than requests are sent: do not sign tokens
	// nobody will use.
	users := c.Users
	if c.Requests > 0 && int64(users) > c.Requests {
		users = int(c.Requests)
	}

	// Warm-up users are another population (another id prefix): their
	// members count in the store's invariants but not in this run's checks.
	warmUsers := 0
	if c.Warmup > 0 {
		warmUsers = min(users, 20_000)
	}

	ids, specs := c.ExperimentIDs, []loadtest.ExperimentSpec(nil)
	if len(ids) == 0 {
		prefix := c.Prefix
		if prefix == "" {
			var b [4]byte
			_, _ = rand.Read(b[:])
			prefix = "lt-" + hex.EncodeToString(b[:])
		}
		cap := c.Cap
		if cap == 0 {
			cap = int64((users+c.Experiments-1)/c.Experiments + (warmUsers+c.Experiments-1)/c.Experiments)
		}
		for i := 0; i < c.Experiments; i++ {
			id := prefix + "-" + strconv.Itoa(i)
			ids = append(ids, id)
			specs = append(specs, loadtest.ExperimentSpec{ID: id, MaxSampleSize: cap, SamplingProbability: c.Sampling, Groups: c.Groups})
		}
	}
	pop, err := loadtest.NewPopulation(ids, users, seed)
	if err != nil {
		return nil, err
	}

	var (
		newTarget func(*loadtest.Population) (loadtest.Target, func(), error)
		commands  func(context.Context) (loadtest.RedisCounts, error)
		verify    func(context.Context, *loadtest.Ledger) (*loadtest.Verification, error)
		memory    func(context.Context) (*loadtest.RedisMemory, error)
		name      string
	)
	switch c.Target {
	case "http":
		name = c.URL
		if len(specs) > 0 {
			m.logf("creating %d experiments through %s", len(specs), c.URL)
			if err := loadtest.CreateExperiments(ctx, c.URL, c.AdminToken, specs); err != nil {
				return nil, err
			}
		}
		newTarget = func(p *loadtest.Population) (loadtest.Target, func(), error) {
			m.logf("signing %d tokens", p.Users)
			if err := p.SignTokens([]byte(c.JWTSecret), time.Now().Add(loadtest.MaxDuration+time.Hour)); err != nil {
				return nil, nil, err
			}
			t, err := loadtest.NewHTTPTarget(c.URL, p, c.Connections, c.Timeout)
			if err != nil {
				return nil, nil, err
			}
			return t, t.Close, nil
		}
		if c.RedisURL != "" {
			rdb, err := newRedis(ctx, c.RedisURL)
			if err != nil {
				return nil, err
			}
			defer rdb.Close()
			keys := redisstore.Keys{Namespace: c.Namespace}
			if c.Verify {
				verify = func(ctx context.Context, l *loadtest.Ledger) (*loadtest.Verification, error) {
					return loadtest.VerifyRedis(ctx, rdb, keys, pop, l)
				}
			}
			memory = func(ctx context.Context) (*loadtest.RedisMemory, error) {
				return loadtest.MeasureRedisMemory(ctx, rdb, keys, ids)
			}
			commands = loadtest.RedisCommandCounter(rdb)
		}

	case "store":
		name = "redisstore in process at " + c.RedisURL
		rdb, err := newRedis(ctx, c.RedisURL)
		if err != nil {
			return nil, err
		}
		defer rdb.Close()
		keys := redisstore.Keys{Namespace: c.Namespace}
		store := redisstore.New(rdb, keys)
		m.logf("creating %d experiments in %s", len(specs), c.RedisURL)
		for _, s := range specs {
			if err := store.CreateExperiment(ctx, &assign.Experiment{ID: s.ID, MaxSampleSize: s.MaxSampleSize,
				SamplingProbability: s.SamplingProbability, Groups: s.Groups}); err != nil {
				return nil, err
			}
		}
		newTarget = func(p *loadtest.Population) (loadtest.Target, func(), error) {
			return loadtest.StoreTarget(store, p, c.Timeout), func() {}, nil
		}
		if c.Verify {
			verify = func(ctx context.Context, l *loadtest.Ledger) (*loadtest.Verification, error) {
				return loadtest.VerifyRedis(ctx, rdb, keys, pop, l)
			}
		}
		memory = func(ctx context.Context) (*loadtest.RedisMemory, error) {
			return loadtest.MeasureRedisMemory(ctx, rdb, keys, ids)
		}
		commands = loadtest.RedisCommandCounter(rdb)

	case "pg":
		name = "postgres baseline (count(*))"
		if c.PGCounter {
			name = "postgres baseline (counter column)"
		}
		b, err := loadtest.OpenPGBaseline(ctx, c.PGURL, c.Connections, c.PGCounter)
		if err != nil {
			return nil, err
		}
		defer b.Close(context.Background())
		m.logf("baseline schema %s: creating %d experiments", b.Schema, len(specs))
		for _, s := range specs {
			if err := b.CreateExperiment(ctx, s); err != nil {
				return nil, err
			}
		}
		newTarget = func(p *loadtest.Population) (loadtest.Target, func(), error) {
			return b.Target(p, c.Timeout), func() {}, nil
		}
		if c.Verify {
			verify = func(ctx context.Context, l *loadtest.Ledger) (*loadtest.Verification, error) {
				return b.Verify(ctx, pop, l)
			}
		}
	}

	if warmUsers > 0 {
		if err := m.warmUp(ctx, ids, warmUsers, seed+1, newTarget); err != nil {
			return nil, err
		}
	}
	target, done, err := newTarget(pop)
	if err != nil {
		return nil, err
	}
	defer done()

	cfg := loadtest.RunConfig{
		Connections: c.Connections,
		Rate:        c.Rate,
		Duration:    c.Duration,
		Requests:    c.Requests,
		Returning:   c.Returning,
		Seed:        seed,
		Watch:       c.Watch,
	}
	if c.RedisCommands {
		cfg.RedisCommands = commands
	}
	if m.progress() {
		cfg.Progress = m.Stdout
	}
	m.logf("running: %s", describe(cfg))
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
	}
	rep, ledger, err := loadtest.Run(ctx, cfg, pop, target)
	if c.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return nil, err
	}
	rep.Target = name
	// The run's context may be cancelled (Ctrl-C): verify anyway.
	vctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if verify != nil {
		m.logf("verifying the invariants")
		if rep.Verify, err = verify(vctx, ledger); err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
	}
	if c.Memory && memory != nil {
		m.logf("measuring Redis memory")
		if rep.Memory, err = memory(vctx); err != nil {
			return nil, fmt.Errorf("memory: %w", err)
		}
	}
	if c.JSON {
		err = rep.WriteJSON(m.Stdout)
	} else {
		err = rep.WriteText(m.Stdout)
	}
	return rep, err
}

// warmUp runs the same load for c.Warmup with a population of its own and
// discards what it measured: connections, pools and caches of the target are
// warm when the measured run starts.
func (m *Main) warmUp(ctx context.Context, ids []string, users int, seed uint64,
	newTarget func(*loadtest.Population) (loadtest.Target, func(), error)) error {
	c := m.Config
	warm, err := loadtest.NewPopulation(ids, users, seed)
	if err != nil {
		return err
	}
	t, done, err := newTarget(warm)
	if err != nil {
		return err
	}
	defer done()
	m.logf("warming up for %s", c.Warmup)
	_, _, err = loadtest.Run(ctx, loadtest.RunConfig{Connections: c.Connections, Rate: c.Rate, Duration: c.Warmup,
		Returning: c.Returning, Seed: seed}, warm, t)
	return err
}

func describe(c loadtest.RunConfig) string {
	s := fmt.Sprintf("closed loop, %d connections", c.Connections)
	if c.Rate > 0 {
		s = fmt.Sprintf("open loop at %g/s, %d connections", c.Rate, c.Connections)
	}
	if c.Duration > 0 {
		s += ", for " + c.Duration.String()
	}
	if c.Requests > 0 {
		s += fmt.Sprintf(", at most %d requests", c.Requests)
	}
	return s
}

func (m *Main) logf(format string, args ...any) {
	if m.Stderr != nil {
		fmt.Fprintf(m.Stderr, "assign-loadtest: "+format+"\n", args...)
	}
}

func (m *Main) progress() bool {
	switch m.Config.Progress {
	case "on":
		return true
	case "off":
		return false
	}
	if m.IsTerminal != nil {
		return m.IsTerminal()
	}
	fi, err := os.Stdout.Stat()
	return m.Stdout == os.Stdout && err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// newRedis connects to a loopback Redis, for verification or the store target.
func newRedis(ctx context.Context, url string) (redis.UniversalClient, error) {
	if _, err := loadtest.CheckLoopbackURL(url, "redis"); err != nil {
		return nil, err
	}
	rdb, err := redisstore.NewClient(ctx, url)
	if err != nil {
		return nil, err
	}
	return rdb, nil
}
