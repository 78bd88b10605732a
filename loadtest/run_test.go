package loadtest_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/loadtest"
)

// fakeTarget decides like a sticky store: a user's group is fixed by its
// index, every failEvery-th call fails with a 503, and, when fickle, every
// answer is random (to prove stickiness violations are caught).
type fakeTarget struct {
	pop       *loadtest.Population
	failEvery int64
	fickle    bool
	calls     atomic.Int64
	mu        sync.Mutex
	seen      map[int]int // calls per user
}

func (f *fakeTarget) Enroll(ctx context.Context, u int) (loadtest.Outcome, error) {
	n := f.calls.Add(1)
	f.mu.Lock()
	f.seen[u]++
	f.mu.Unlock()
	if f.failEvery > 0 && n%f.failEvery == 0 {
		return loadtest.OutcomeNone, &loadtest.RequestError{Kind: loadtest.StatusKind(503)}
	}
	pick := u % 3
	if f.fickle {
		pick = rand.IntN(3)
	}
	switch pick {
	case 0:
		return loadtest.OutcomeNotSampled, nil
	case 1:
		return f.pop.Groups.Outcome([]byte("control")), nil
	}
	return f.pop.Groups.Outcome([]byte("treatment")), nil
}

func newFake(t *testing.T, users int) (*loadtest.Population, *fakeTarget) {
	t.Helper()
	pop, err := loadtest.NewPopulation([]string{"e1", "e2"}, users, 1)
	if err != nil {
		t.Fatal(err)
	}
	return pop, &fakeTarget{pop: pop, seen: make(map[int]int)}
}

func TestRun_ClosedLoop(t *testing.T) {
	pop, target := newFake(t, 1000)
	target.failEvery = 10
	rep, ledger, err := loadtest.Run(context.Background(), loadtest.RunConfig{
		Connections: 8, Requests: 3000, Duration: time.Minute, Returning: 0.5, Seed: 1,
	}, pop, target)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 3000 || rep.OK+rep.Failed != 3000 {
		t.Fatalf("sent %d, ok %d, failed %d, want 3000 = ok + failed", rep.Sent, rep.OK, rep.Failed)
	}
	if got, want := rep.Errors["status_503"], int64(300); got != want || rep.Failed != want {
		t.Errorf("status_503=%d (failed %d), want %d", got, rep.Failed, want)
	}
	if got, want := rep.Latency.Count, rep.OK; got != want {
		t.Errorf("latency count %d, want %d (one per decision)", got, want)
	}
	if rep.NewRequests+rep.ReturningRequests != rep.OK {
		t.Errorf("new %d + returning %d != ok %d", rep.NewRequests, rep.ReturningRequests, rep.OK)
	}
	if rep.Sticky != 0 {
		t.Errorf("Sticky=%d with a sticky target; examples %v", rep.Sticky, rep.Examples)
	}
	var decided int64
	for _, n := range rep.Decisions {
		decided += n
	}
	if decided != rep.OK || rep.Decisions["enrolled"] != rep.Groups["control"]+rep.Groups["treatment"] {
		t.Errorf("decisions %v groups %v do not add up to ok %d", rep.Decisions, rep.Groups, rep.OK)
	}
	// Half of the 3,000 requests ask for new users: more than the 1,000
	// there are, so all were handed out. Each answered user's ledger entry
	// is its (sticky) answer.
	if got, want := rep.NewUsers, int64(1000); got != want {
		t.Errorf("NewUsers=%d, want %d", got, want)
	}
	for u := 0; u < pop.Users; u++ {
		if first := ledger.First(u); first != loadtest.OutcomeNone {
			want, _ := target.Enroll(context.Background(), u)
			if first != want && want != loadtest.OutcomeNone {
				t.Fatalf("ledger says user %d got %d, the target answers %d", u, first, want)
			}
		}
	}
	if rep.Mode != "closed" || rep.Service != nil {
		t.Errorf("Mode=%q Service=%v, want closed without service time", rep.Mode, rep.Service)
	}
}

func TestRun_Stickiness(t *testing.T) {
	pop, target := newFake(t, 50)
	target.fickle = true
	rep, _, err := loadtest.Run(context.Background(), loadtest.RunConfig{
		Connections: 4, Requests: 1000, Returning: 0.8, Seed: 2,
	}, pop, target)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sticky == 0 || len(rep.Examples) == 0 {
		t.Fatalf("Sticky=%d, examples %d: a target answering at random must be caught", rep.Sticky, len(rep.Examples))
	}
	if rep.Correct() {
		t.Fatalf("report judged correct despite %d stickiness violations", rep.Sticky)
	}
}

func TestRun_OpenLoop(t *testing.T) {
	pop, target := newFake(t, 10_000)
	rep, _, err := loadtest.Run(context.Background(), loadtest.RunConfig{
		Connections: 4, Rate: 2000, Duration: 250 * time.Millisecond, Seed: 3,
	}, pop, target)
	if err != nil {
		t.Fatal(err)
	}
	// Exactly the scheduled requests leave: 2000/s for 250 ms.
	if rep.Sent != 500 || rep.Dropped != 0 {
		t.Fatalf("sent %d, dropped %d, want 500 and 0", rep.Sent, rep.Dropped)
	}
	if rep.Mode != "open" || rep.Service == nil || rep.TargetRate != 2000 {
		t.Fatalf("Mode=%q TargetRate=%g Service=%v, want open at 2000/s with service time", rep.Mode, rep.TargetRate, rep.Service)
	}
	// Latency counts from the intended time, so it is never below the service time.
	if rep.Latency.Max < rep.Service.Max || rep.Latency.Count != rep.Service.Count {
		t.Errorf("latency %+v vs service %+v", rep.Latency, *rep.Service)
	}
	if got, want := rep.NewRequests, int64(500); got != want {
		t.Errorf("NewRequests=%d, want %d (no returning users asked)", got, want)
	}
}

func TestRun_Requests(t *testing.T) {
	pop, target := newFake(t, 10)
	rep, _, err := loadtest.Run(context.Background(), loadtest.RunConfig{Connections: 3, Requests: 7}, pop, target)
	if err != nil {
		t.Fatal(err)
	} else if rep.Sent != 7 || target.calls.Load() != 7 {
		t.Fatalf("sent %d, target saw %d, want 7", rep.Sent, target.calls.Load())
	}
}

func TestRun_Interrupted(t *testing.T) {
	pop, target := newFake(t, 10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, _, err := loadtest.Run(ctx, loadtest.RunConfig{Connections: 2, Duration: time.Hour}, pop, target)
	if err != nil {
		t.Fatal(err)
	} else if !rep.Interrupted || rep.Sent != 0 {
		t.Fatalf("Interrupted=%v Sent=%d, want true and 0", rep.Interrupted, rep.Sent)
	}
}

func TestRunConfig_Bounds(t *testing.T) {
	pop, target := newFake(t, 10)
	for name, cfg := range map[string]loadtest.RunConfig{
		"Unbounded":    {Connections: 1},
		"TooLong":      {Duration: 2 * time.Hour},
		"BadReturning": {Duration: time.Second, Returning: 1.5},
		"NegativeRate": {Duration: time.Second, Rate: -1},
		"TooManyConns": {Duration: time.Second, Connections: loadtest.MaxConnections + 1},
		"OpenTooLong":  {Requests: 1e9, Rate: 1},
	} {
		if _, _, err := loadtest.Run(context.Background(), cfg, pop, target); err == nil {
			t.Errorf("%s: Run accepted %+v", name, cfg)
		}
	}
}

func TestErrorKind(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&loadtest.RequestError{Kind: "status_503"}, "status_503"},
		{context.DeadlineExceeded, loadtest.KindTimeout},
		{errors.New("boom"), loadtest.KindOther},
	} {
		if got := loadtest.ErrorKind(tc.err); got != tc.want {
			t.Errorf("ErrorKind(%v)=%q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestRun_WatchCPU(t *testing.T) {
	pop, target := newFake(t, 100)
	rep, _, err := loadtest.Run(context.Background(), loadtest.RunConfig{
		Connections: 2, Requests: 200, Watch: map[string]int{"self": os.Getpid(), "gone": 1 << 30},
	}, pop, target)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.CPU
	if c == nil || c.Wall <= 0 {
		t.Fatalf("CPU=%+v, want a measured window", c)
	}
	if _, ok := c.Processes["self"]; !ok {
		t.Errorf("Processes=%v, want the watched process", c.Processes)
	}
	if _, ok := c.Processes["gone"]; ok {
		t.Errorf("a process that does not exist was measured: %v", c.Processes)
	}
	for name, v := range c.Processes {
		if v < 0 {
			t.Errorf("%s used %g CPU-seconds", name, v)
		}
	}
	if c.Busy < 0 || rep.GeneratorCPU != c.Processes["generator"] {
		t.Errorf("Busy=%g GeneratorCPU=%g, generator %g", c.Busy, rep.GeneratorCPU, c.Processes["generator"])
	}
}

// TestRun_RedisCommands: the count is read at the start and the end of the
// measured run, and the report gives the difference per second of the run.
func TestRun_RedisCommands(t *testing.T) {
	pop, target := newFake(t, 100)
	var reads atomic.Int64
	counter := func(context.Context) (loadtest.RedisCounts, error) {
		// 1000 commands and 10 script calls at the start; by the end, 3
		// commands and 1 script call more per request sent.
		if reads.Add(1) == 1 {
			return loadtest.RedisCounts{Commands: 1000, ScriptCalls: 10}, nil
		}
		n := target.calls.Load()
		return loadtest.RedisCounts{Commands: 1000 + 3*n, ScriptCalls: 10 + n}, nil
	}
	rep, _, err := loadtest.Run(context.Background(), loadtest.RunConfig{
		Connections: 2, Requests: 200, RedisCommands: counter,
	}, pop, target)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.RedisCommands
	if c == nil {
		t.Fatal("no RedisCommands in the report")
	}
	if reads.Load() != 2 || c.Before != 1000 || c.After != 1600 || c.Wall <= 0 {
		t.Fatalf("reads %d, %+v; want 2 reads, 1000 -> 1600", reads.Load(), *c)
	}
	if want := 600 / c.Wall; c.PerSecond != want {
		t.Errorf("PerSecond %g, want %g", c.PerSecond, want)
	}
	if c.ScriptCalls != 200 || c.ScriptCallsPerSecond != 200/c.Wall {
		t.Errorf("ScriptCalls %d, %g/s; want 200, %g/s", c.ScriptCalls, c.ScriptCallsPerSecond, 200/c.Wall)
	}

	// A counter that fails: no figure, and the report says why.
	rep, _, err = loadtest.Run(context.Background(), loadtest.RunConfig{
		Connections: 1, Requests: 10, RedisCommands: func(context.Context) (loadtest.RedisCounts, error) { return loadtest.RedisCounts{}, errors.New("down") },
	}, pop, target)
	if err != nil {
		t.Fatal(err)
	}
	if rep.RedisCommands != nil || len(rep.Examples) == 0 {
		t.Errorf("RedisCommands %+v, examples %v: want none and the error", rep.RedisCommands, rep.Examples)
	}
}

func TestInfoField(t *testing.T) {
	info := "# Stats\r\ntotal_connections_received:12\r\ntotal_commands_processed:98765\r\ninstantaneous_ops_per_sec:3\r\n"
	if n, err := loadtest.InfoField(info, "total_commands_processed"); err != nil || n != 98765 {
		t.Errorf("got %d, %v; want 98765", n, err)
	}
	if _, err := loadtest.InfoField(info, "total_commands"); err == nil {
		t.Error("no error for a field that is not there (only a prefix of one)")
	}
}

func TestCommandCalls(t *testing.T) {
	info := "# Commandstats\r\ncmdstat_evalsha:calls=4321,usec=99,usec_per_call=0.02,rejected_calls=0,failed_calls=1\r\ncmdstat_eval:calls=7,usec=1\r\n"
	for cmd, want := range map[string]int64{"evalsha": 4321, "eval": 7, "hget": 0} {
		if n, err := loadtest.CommandCalls(info, cmd); err != nil || n != want {
			t.Errorf("%s: %d, %v; want %d", cmd, n, err, want)
		}
	}
}

// The counter reads both figures from a real Redis, and a script call moves
// the script count by one.
func TestRedisCommandCounter(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	defer rdb.Close()
	ctx := testenv.Context(t)
	count := loadtest.RedisCommandCounter(rdb)
	before, err := count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Eval(ctx, "return 1", nil).Err(); err != nil {
		t.Fatal(err)
	}
	after, err := count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Commands <= before.Commands || after.ScriptCalls < before.ScriptCalls+1 {
		t.Fatalf("before %+v, after %+v: want more commands and at least one more script call", before, after)
	}
}
