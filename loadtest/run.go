package loadtest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Limits of a run, so that it always stops by itself.
const (
	MaxDuration    = time.Hour
	MaxConnections = 10_000
)

// RunConfig describes the load of a run.
type RunConfig struct {
	// Connections is the number of workers, each with at most one request in
	// flight (the HTTP target gives each its own connection). Default 64.
	Connections int

	// Rate is the open-loop target in requests per second; 0 runs a closed
	// loop at the target's maximum throughput.
	Rate float64

	// Duration and Requests bound the run; whichever comes first ends it.
	// At least one must be set; Duration is at most MaxDuration.
	Duration time.Duration
	Requests int64

	// Returning is the fraction of requests from users who already have an
	// answer (0 to 1).
	Returning float64

	// Seed makes the user picks reproducible.
	Seed uint64

	// Drain is how long an open-loop run may go past its schedule to send
	// requests the generator is late with; what is left then is counted as
	// dropped. Default 5s.
	Drain time.Duration

	// Progress, when set, receives a progress line ("\r...") every second.
	Progress io.Writer

	// Watch names processes (by pid) whose CPU time the report gives for
	// the run, read from /proc: the server and Redis, typically.
	Watch map[string]int

	// RedisCommands, when set, reads Redis's count of commands processed;
	// the report gives the commands per second of the run (RedisCommands).
	RedisCommands func(context.Context) (RedisCounts, error)
}

func (c *RunConfig) validate() error {
	if c.Connections == 0 {
		c.Connections = 64
	}
	if c.Drain == 0 {
		c.Drain = 5 * time.Second
	}
	switch {
	case c.Connections < 1 || c.Connections > MaxConnections:
		return fmt.Errorf("loadtest: connections must be between 1 and %d", MaxConnections)
	case c.Rate < 0:
		return fmt.Errorf("loadtest: rate must not be negative")
	case c.Duration < 0 || c.Requests < 0:
		return fmt.Errorf("loadtest: duration and requests must not be negative")
	case c.Duration == 0 && c.Requests == 0:
		return fmt.Errorf("loadtest: set a duration or a number of requests: a run must stop by itself")
	case c.Duration > MaxDuration:
		return fmt.Errorf("loadtest: duration is at most %s", MaxDuration)
	case c.Returning < 0 || c.Returning > 1:
		return fmt.Errorf("loadtest: returning must be between 0 and 1")
	case c.Rate > 0 && c.Duration == 0 && float64(c.Requests)/c.Rate > MaxDuration.Seconds():
		return fmt.Errorf("loadtest: %d requests at %g/s take longer than %s", c.Requests, c.Rate, MaxDuration)
	}
	return nil
}

// run is the shared state of one Run.
type run struct {
	cfg    RunConfig
	pop    *Population
	target Target
	ledger *Ledger
	mix    *Mix

	start    time.Time
	end      time.Time // no request starts after it (closed loop) or is scheduled at or after it (open loop)
	hardStop time.Time
	sched    Schedule
	limit    int64 // requests to send at most; -1 for no limit
	next     atomic.Int64

	sent, ok, failed, sticky atomic.Int64
	latency, service         *Histogram
	timeline                 []atomic.Int64 // answers per second since start

	mu        sync.Mutex
	errs      map[string]int64
	examples  []string // a few sticky violations and errors, for the report
	decisions map[Outcome]*[2]int64
}

// Run drives target with the load cfg describes, over the users of pop, and
// returns the report and the ledger of first answers (for verification
// against the store). It stops at the first of cfg.Duration, cfg.Requests
// or the end of ctx.
func Run(ctx context.Context, cfg RunConfig, pop *Population, target Target) (*Report, *Ledger, error) {
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	r := &run{
		cfg:       cfg,
		pop:       pop,
		target:    target,
		ledger:    NewLedger(pop.Users),
		latency:   NewHistogram(),
		service:   NewHistogram(),
		errs:      make(map[string]int64),
		decisions: make(map[Outcome]*[2]int64),
		limit:     -1,
	}
	r.mix = NewMix(cfg.Returning, pop.Users, r.ledger)
	if cfg.Requests > 0 {
		r.limit = cfg.Requests
	}

	var cmdsBefore RedisCounts
	var cmdsErr error
	if cfg.RedisCommands != nil {
		cmdsBefore, cmdsErr = cfg.RedisCommands(ctx)
	}
	before := takeCPUSnapshot(cfg.Watch)
	r.start = time.Now()
	span := MaxDuration
	if cfg.Duration > 0 {
		span = cfg.Duration
	}
	if cfg.Rate > 0 {
		r.sched = Schedule{Start: r.start, Rate: cfg.Rate}
		if n := r.sched.Count(span); r.limit < 0 || n < r.limit {
			r.limit = n
		}
		span = r.sched.At(r.limit).Sub(r.start)
		r.hardStop = r.start.Add(span + cfg.Drain)
	}
	r.end = r.start.Add(span)
	r.timeline = make([]atomic.Int64, int((span+cfg.Drain)/time.Second)+2)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < cfg.Connections; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r.worker(ctx, rand.New(rand.NewPCG(cfg.Seed, uint64(w))))
		}(w)
	}
	stopProgress := r.progress(ctx)
	wg.Wait()
	elapsed := time.Since(r.start)
	after := takeCPUSnapshot(cfg.Watch)
	var cmdsAfter RedisCounts
	if cfg.RedisCommands != nil && cmdsErr == nil {
		// The run's context may be over (Ctrl-C): read the count anyway.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		cmdsAfter, cmdsErr = cfg.RedisCommands(rctx)
		rcancel()
	}
	stopProgress()
	rep := r.report(elapsed)
	rep.CPU = usageSince(before, after)
	if cfg.RedisCommands != nil {
		if cmdsErr != nil {
			rep.Examples = append(rep.Examples, "redis commands: "+cmdsErr.Error())
		} else if wall := after.at.Sub(before.at).Seconds(); wall > 0 {
			calls := cmdsAfter.ScriptCalls - cmdsBefore.ScriptCalls
			rep.RedisCommands = &RedisCommands{Before: cmdsBefore.Commands, After: cmdsAfter.Commands, Wall: wall,
				PerSecond:   float64(cmdsAfter.Commands-cmdsBefore.Commands) / wall,
				ScriptCalls: calls, ScriptCallsPerSecond: float64(calls) / wall}
		}
	}
	rep.GeneratorCPU = rep.CPU.Processes["generator"]
	if ctx.Err() != nil {
		rep.Interrupted = true
		rep.Dropped = 0
	}
	return rep, r.ledger, nil
}

// worker sends requests one at a time until the run ends.
func (r *run) worker(ctx context.Context, rng *rand.Rand) {
	local := make(map[Outcome]*[2]int64)
	defer r.mergeDecisions(local)
	var timer *time.Timer
	for ctx.Err() == nil {
		i := r.next.Add(1) - 1
		if r.limit >= 0 && i >= r.limit {
			return
		}
		var intended time.Time
		if r.cfg.Rate > 0 {
			intended = r.sched.At(i)
			if d := time.Until(intended); d > 0 {
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				select {
				case <-timer.C:
				case <-ctx.Done():
					return
				}
			} else if time.Now().After(r.hardStop) {
				return // too far behind the schedule: the rest is dropped
			}
		} else if !time.Now().Before(r.end) {
			return
		}

		u, returning := r.mix.Pick(rng)
		sent := time.Now()
		if intended.IsZero() {
			intended = sent
		}
		r.sent.Add(1)
		o, err := r.target.Enroll(ctx, u)
		done := time.Now()
		if sec := int(done.Sub(r.start) / time.Second); sec < len(r.timeline) {
			r.timeline[sec].Add(1)
		}
		if err != nil {
			if ctx.Err() != nil {
				r.sent.Add(-1) // interrupted by the end of the run, not the target's fault
				return
			}
			r.failed.Add(1)
			r.recordError(ErrorKind(err), err)
			continue
		}
		r.ok.Add(1)
		r.latency.Record(done.Sub(intended))
		r.service.Record(done.Sub(sent))
		if first, isFirst := r.ledger.Record(u, o); !isFirst && first != o {
			r.sticky.Add(1)
			r.example(fmt.Sprintf("stickiness: user %s first got %q, then %q",
				r.pop.UserID(u), r.pop.Groups.Name(first), r.pop.Groups.Name(o)))
		}
		c := local[o]
		if c == nil {
			c = new([2]int64)
			local[o] = c
		}
		if returning {
			c[1]++
		} else {
			c[0]++
		}
	}
}

func (r *run) recordError(kind string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs[kind]++
	if r.errs[kind] == 1 && len(r.examples) < 20 {
		r.examples = append(r.examples, "error: "+err.Error())
	}
}

func (r *run) example(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.examples) < 20 {
		r.examples = append(r.examples, s)
	}
}

func (r *run) mergeDecisions(local map[Outcome]*[2]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for o, c := range local {
		d := r.decisions[o]
		if d == nil {
			d = new([2]int64)
			r.decisions[o] = d
		}
		d[0] += c[0]
		d[1] += c[1]
	}
}

// progress writes a progress line every second until the returned function
// is called, which also clears the line.
func (r *run) progress(ctx context.Context) (stop func()) {
	if r.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var last int64
		for {
			select {
			case <-done:
				fmt.Fprint(r.cfg.Progress, "\r\033[K")
				return
			case <-ctx.Done():
				fmt.Fprint(r.cfg.Progress, "\r\033[K")
				return
			case <-t.C:
				n := r.ok.Load() + r.failed.Load()
				fmt.Fprintf(r.cfg.Progress, "\r\033[K%5.0fs  %d answers  %d/s  errors %d  p99 %.2fms  users %d new, %d answered",
					time.Since(r.start).Seconds(), n, n-last, r.failed.Load(),
					ms(r.latency.Quantile(0.99)), r.mix.NewUsers(), r.ledger.Answered())
				last = n
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// report assembles the report once every worker has stopped.
func (r *run) report(elapsed time.Duration) *Report {
	rep := &Report{
		Mode:        "closed",
		Connections: r.cfg.Connections,
		Returning:   r.cfg.Returning,
		Users:       r.pop.Users,
		Experiments: len(r.pop.Experiments),
		Elapsed:     elapsed.Seconds(),
		Sent:        r.sent.Load(),
		OK:          r.ok.Load(),
		Failed:      r.failed.Load(),
		Errors:      r.errs,
		Latency:     r.latency.Summary(),
		Decisions:   make(map[string]int64),
		NewUsers:    r.mix.NewUsers(),
		Answered:    r.ledger.Answered(),
		Sticky:      r.sticky.Load(),
		Examples:    r.examples,
	}
	if r.cfg.Rate > 0 {
		rep.Mode = "open"
		rep.TargetRate = r.cfg.Rate
		rep.Service = ptr(r.service.Summary())
		rep.Dropped = r.limit - rep.Sent
	}
	rep.Rate = float64(rep.OK+rep.Failed) / elapsed.Seconds()
	rep.OKRate = float64(rep.OK) / elapsed.Seconds()
	for o, c := range r.decisions {
		name := r.pop.Groups.Name(o)
		if o.Enrolled() {
			rep.Decisions["enrolled"] += c[0] + c[1]
			if rep.Groups == nil {
				rep.Groups = make(map[string]int64)
			}
			rep.Groups[name] += c[0] + c[1]
		} else {
			rep.Decisions[name] += c[0] + c[1]
		}
		rep.NewRequests += c[0]
		rep.ReturningRequests += c[1]
	}
	secs := int(elapsed / time.Second)
	for i := 0; i < secs && i < len(r.timeline); i++ {
		rep.Timeline = append(rep.Timeline, r.timeline[i].Load())
	}
	sort.Strings(rep.Examples)
	return rep
}

func ptr[T any](v T) *T { return &v }
