// Package exporter moves the enrollment and configuration events of the
// Redis streams into a warehouse sink, exactly once in the table.
//
// It reads the streams listed in Keys.Streams() with the consumer group
// redisstore.ConsumerGroup, writes a batch to the sink in one transaction,
// and only after the commit acknowledges the entries and trims each stream
// below its oldest unacknowledged entry. Delivery is at least once (a crash
// between the commit and the acknowledgement replays the batch); the sink's
// inserts ignore duplicates, so each enrollment is one row.
//
// A warehouse that is down or slow stops nothing but the exporter: the
// enrollment script only appends to the streams, which hold the events until
// the exporter catches up (watch Backlog). The exporter retries with backoff
// and never drops a batch.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse"
)

// Defaults of the Exporter's options.
const (
	DefaultBatchSize       = 20000
	DefaultFlushInterval   = time.Second
	DefaultClaimIdle       = time.Minute
	DefaultForgetIdle      = time.Hour
	DefaultRefreshInterval = 5 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
	DefaultRetryMin        = 100 * time.Millisecond
	DefaultRetryMax        = 10 * time.Second
)

// maxBlock bounds one blocking read, hence how long a shutdown waits for it.
const maxBlock = time.Second

// Exporter copies stream events to a warehouse. Set the fields, then call
// Run once.
type Exporter struct {
	// Client is the Redis the streams live on. Give the exporter its own
	// client: a blocking XREADGROUP holds one of its connections for up to
	// FlushInterval. Required.
	Client redis.UniversalClient

	// Keys names the stream set under a namespace.
	Keys redisstore.Keys

	// Sink receives the batches. Required.
	Sink warehouse.Sink

	// Consumer is this exporter's name in the consumer group; it must be
	// stable across restarts of one instance so the instance re-reads its
	// own pending entries, and distinct between instances running at once.
	// Default "<hostname>-<pid>".
	Consumer string

	// BatchSize is the most entries written in one transaction. Default
	// DefaultBatchSize.
	BatchSize int

	// FlushInterval is how long a partial batch may wait for more entries
	// before it is written. Default DefaultFlushInterval.
	FlushInterval time.Duration

	// ClaimIdle is how long an entry must stay unacknowledged, whoever
	// read it, before this exporter claims it (XAUTOCLAIM): the time after
	// which a consumer is presumed dead. Default DefaultClaimIdle; negative
	// disables claiming.
	ClaimIdle time.Duration

	// ForgetIdle is how long a consumer of the group with nothing pending
	// may stay idle before it is removed (XGROUP DELCONSUMER), so that
	// instances restarted under new names (the default is per process) do
	// not pile up in the group. Harmless for a live consumer: its next read
	// recreates it. Checked with the claims. Default DefaultForgetIdle;
	// negative disables.
	ForgetIdle time.Duration

	// RefreshInterval is how often the stream set is read again to find
	// new experiments. Default DefaultRefreshInterval.
	RefreshInterval time.Duration

	// SweepInterval is how often the streams of experiments that take no
	// enrollments (quiet.go), left out of the reads, are read anyway.
	// Default DefaultSweepInterval.
	SweepInterval time.Duration

	// ShutdownTimeout bounds the final flush after the context of Run is
	// cancelled. What is not written by then stays pending in Redis and is
	// read again at the next start. Default DefaultShutdownTimeout.
	ShutdownTimeout time.Duration

	// RetryMin and RetryMax bound the backoff between failed attempts.
	// Defaults DefaultRetryMin and DefaultRetryMax.
	RetryMin, RetryMax time.Duration

	// Logger receives one line per failure and per start/stop. Default
	// slog.Default().
	Logger *slog.Logger

	// Now returns the current time; it can be mocked for tests.
	Now func() time.Time

	// OnBatch, if set, is called after each committed batch with its
	// enrollment rows and the duration of the warehouse write (for a
	// latency histogram). It must be quick.
	OnBatch func(rows int, write time.Duration)

	// afterCommit, when set, runs after the warehouse commit and before the
	// acknowledgement; an error stops Run there, as a crash would. Tests
	// only (export_test.go).
	afterCommit func() error

	// noPrecheck skips warehouse.CheckEnrollment/CheckExperiment, so that
	// the rows they catch reach the warehouse and are found by bisection.
	// Tests only (export_test.go).
	noPrecheck bool

	mu    sync.Mutex
	stats Stats

	cluster     bool                // Client is a Redis Cluster client: read per slot
	all         []string            // every stream with its group, sorted
	streams     []string            // the streams read: all but the quiet ones, sorted
	active      map[string]bool     // stream -> its experiment takes enrollments (see quiet.go)
	quiet       map[string]bool     // streams read to their end whose experiment takes none
	quietView   []string            // a copy of quiet for Quiet, guarded by mu
	lastChanges time.Time           // last look at the changes set
	changeSeen  map[string]float64  // stream -> score of the last change that woke it
	lastSweep   time.Time           // last read of the quiet streams
	groups      []*streamGroup      // streams by what one read may name together
	known       map[string]struct{} // streams whose group is ensured
	lastRefresh time.Time
	lastClaim   time.Time
}

func (e *Exporter) setDefaults() error {
	if e.Client == nil || e.Sink == nil {
		return errors.New("exporter: Client and Sink are required")
	}
	if e.Consumer == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "exporter"
		}
		e.Consumer = host + "-" + strconv.Itoa(os.Getpid())
	}
	if e.BatchSize <= 0 {
		e.BatchSize = DefaultBatchSize
	}
	if e.FlushInterval <= 0 {
		e.FlushInterval = DefaultFlushInterval
	}
	if e.ForgetIdle == 0 {
		e.ForgetIdle = DefaultForgetIdle
	}
	if e.ClaimIdle == 0 {
		e.ClaimIdle = DefaultClaimIdle
	}
	if e.RefreshInterval <= 0 {
		e.RefreshInterval = DefaultRefreshInterval
	}
	if e.ShutdownTimeout <= 0 {
		e.ShutdownTimeout = DefaultShutdownTimeout
	}
	if e.RetryMin <= 0 {
		e.RetryMin = DefaultRetryMin
	}
	if e.RetryMax < e.RetryMin {
		e.RetryMax = max(DefaultRetryMax, e.RetryMin)
	}
	if e.Logger == nil {
		e.Logger = slog.Default()
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.SweepInterval <= 0 {
		e.SweepInterval = DefaultSweepInterval
	}
	e.known = make(map[string]struct{})
	e.active = make(map[string]bool)
	e.quiet = make(map[string]bool)
	e.changeSeen = make(map[string]float64)
	_, e.cluster = e.Client.(*redis.ClusterClient)
	return nil
}

// Run exports until ctx is cancelled, then writes what it has read (within
// ShutdownTimeout) and returns nil. It returns an error only for a bad
// configuration. Migrations run first, retried until the warehouse answers.
func (e *Exporter) Run(ctx context.Context) error {
	if err := e.setDefaults(); err != nil {
		return err
	}
	// Writes, acknowledgements and trims run on stop, which outlives ctx by
	// ShutdownTimeout so that a shutdown still flushes the batch in hand.
	stop, cancelStop := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStop()
	go func() {
		select {
		case <-ctx.Done():
		case <-stop.Done():
			return
		}
		t := time.NewTimer(e.ShutdownTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			cancelStop()
		case <-stop.Done():
		}
	}()

	log := e.Logger.With("consumer", e.Consumer)
	log.Info("exporter starting", "batch_size", e.BatchSize, "flush_interval", e.FlushInterval.String())
	// On stop, not ctx: a stop that comes during the migrations must still
	// let the final drain write what is waiting.
	if err := e.retry(stop, "migrate", e.Sink.Migrate); err != nil {
		return nil // the warehouse did not answer, even within ShutdownTimeout of the stop
	}

	b, spare := newBatch(), newBatch()
	// First our own pending entries: read before a crash, maybe written,
	// never acknowledged.
	if err := e.readOwnPending(ctx, stop, b); err != nil {
		return e.stopped(stop, b, nil, err)
	}
	// One batch is written while the next is read: the warehouse and Redis
	// round trips overlap. At most two batches are held.
	var inflight chan error
	for ctx.Err() == nil {
		if err := e.refresh(ctx, false); err != nil {
			// The streams known so far are still read and flushed: the
			// node holding the stream set may be the only one down.
			e.logRedis(ctx, "refresh streams", err)
			e.lastRefresh = e.Now()
		}
		if e.wakeChanged(ctx) {
			e.readSet()
		}
		if e.ClaimIdle > 0 && e.Now().Sub(e.lastClaim) >= e.ClaimIdle/2 {
			if err := e.claim(ctx, b); err != nil {
				e.logRedis(ctx, "claim", err)
			}
			e.lastClaim = e.Now()
		}
		if b.full(e.BatchSize) || b.due(e.Now(), e.FlushInterval) {
			if inflight != nil {
				if err := <-inflight; err != nil {
					return e.stopped(stop, b, nil, err)
				}
			}
			inflight = make(chan error, 1)
			go func(b *batch, done chan<- error) { done <- e.flush(stop, b) }(b, inflight)
			b, spare = spare, b
			continue
		}
		if len(e.streams) == 0 {
			sleep(ctx, min(e.RefreshInterval, e.FlushInterval))
			continue
		}
		// A blocked XREADGROUP does not see ctx, so the block is also
		// bounded by maxBlock, which bounds the time to shut down.
		block := min(e.FlushInterval, maxBlock)
		if b.n > 0 {
			block = min(max(b.first.Add(e.FlushInterval).Sub(e.Now()), time.Millisecond), maxBlock)
		}
		if err := e.read(ctx, b, block); err != nil {
			e.logRedis(ctx, "read", err)
			sleep(ctx, e.RetryMin)
		}
	}
	return e.stopped(stop, b, inflight, nil)
}

// stopped ends Run: it waits for the batch being written, then writes the
// batch in hand, unless err (or the write in flight) says the exporter must
// stop at once (the test crash).
func (e *Exporter) stopped(stop context.Context, b *batch, inflight chan error, err error) error {
	if err == nil && inflight != nil {
		err = <-inflight
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		e.Logger.Warn("exporter stopped", "consumer", e.Consumer, "err", err)
		return err
	}
	if derr := e.drain(stop, b); derr != nil {
		e.Logger.Warn("exporter stopped while draining", "consumer", e.Consumer, "err", derr)
		return derr
	}
	if ferr := e.flush(stop, b); ferr != nil {
		e.Logger.Warn("exporter: final flush failed; the entries stay pending for the next start",
			"consumer", e.Consumer, "entries", b.n, "err", ferr)
	}
	e.Logger.Info("exporter stopped", "consumer", e.Consumer)
	return nil
}

// drain reads, without blocking, what arrived but was not read yet, from
// every stream including ones created since the last refresh, flushing full
// batches, until the streams are empty or stop ends (ShutdownTimeout). So a
// graceful stop leaves nothing behind, and an embedded Redis, which ends with
// the process, loses nothing. Redis errors end the drain quietly: what is not
// read stays in the streams for the next start.
func (e *Exporter) drain(stop context.Context, b *batch) error {
	if err := e.refresh(stop, true); err != nil {
		return nil
	}
	// Quiet streams too: an update just before the stop may have written
	// an event there that no change record has announced yet.
	clear(e.quiet)
	e.readSet()
	for stop.Err() == nil && len(e.streams) > 0 {
		if b.full(e.BatchSize) {
			if err := e.flush(stop, b); err != nil {
				return err
			}
		}
		before := b.n
		if err := e.read(stop, b, -1); err != nil || b.n == before {
			return nil
		}
	}
	return nil
}

// retry calls fn until it succeeds or ctx ends, with exponential backoff
// and jitter, counting failures.
func (e *Exporter) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	wait := e.RetryMin
	for {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.mu.Lock()
		e.stats.Failures++
		e.mu.Unlock()
		e.Logger.Warn("exporter: warehouse failed, retrying", "op", what, "retry_in", wait, "err", err)
		if !sleep(ctx, wait/2+rand.N(wait/2+1)) {
			return ctx.Err()
		}
		wait = min(wait*2, e.RetryMax)
	}
}

func (e *Exporter) logRedis(ctx context.Context, what string, err error) {
	if ctx.Err() == nil {
		e.Logger.Warn("exporter: redis failed", "op", what, "err", err)
	}
}

// sleep waits d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// errStopped wraps the error of the test hook.
func errStopped(err error) error { return fmt.Errorf("exporter: stopped after commit: %w", err) }
