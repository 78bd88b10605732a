package exporter

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/redisstore"
)

// refresh reads the stream set again when RefreshInterval has passed (or
// when force is set) and makes sure every stream has the consumer group.
// The group is normally created with the stream; creating it here too
// (from ID 0, so nothing is missed) covers a stream made without one.
// Streams that no longer exist are left out: a single missing stream would
// fail an XREADGROUP over all of them.
func (e *Exporter) refresh(ctx context.Context, force bool) error {
	if !force && !e.lastRefresh.IsZero() && e.Now().Sub(e.lastRefresh) < e.RefreshInterval {
		return nil
	}
	members, err := e.Client.SMembers(ctx, e.Keys.Streams()).Result()
	if err != nil {
		return err
	}
	members = e.keepDropped(ctx, members)
	slices.Sort(members)
	if force {
		clear(e.known)
	}
	var fresh []string
	for _, s := range members {
		if _, ok := e.known[s]; !ok {
			fresh = append(fresh, s)
		}
	}
	if len(fresh) > 0 {
		cmds := make([]*redis.StatusCmd, len(fresh))
		_, _ = e.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, s := range fresh {
				cmds[i] = p.XGroupCreate(ctx, s, redisstore.ConsumerGroup, "0")
			}
			return nil
		})
		for i, c := range cmds {
			switch err := c.Err(); {
			case err == nil, err != nil && strings.HasPrefix(err.Error(), "BUSYGROUP"):
				e.known[fresh[i]] = struct{}{}
			case isNoKey(err):
				// The stream is gone (or not yet made); look again next time.
			case redis.HasErrorPrefix(err, "ERR"), redis.HasErrorPrefix(err, "WRONGTYPE"):
				return err
			default:
				// Its node is down or moving: the others go on, this one is
				// tried again at the next refresh.
				e.logRedis(ctx, "create consumer group", err)
			}
		}
	}
	e.all = e.all[:0]
	var unseen []string
	for _, s := range members {
		if _, ok := e.known[s]; ok {
			e.all = append(e.all, s)
			if _, ok := e.active[s]; !ok {
				unseen = append(unseen, s)
			}
		}
	}
	if len(unseen) > 0 {
		e.learn(ctx, unseen)
	}
	e.readSet()
	e.lastRefresh = e.Now()
	return nil
}

// keepDropped adds back to members the streams read so far that are missing
// from the stream set but still exist (the set's node lost them in a
// failover), and writes them back into the set: a stream is never dropped
// while it may hold events.
func (e *Exporter) keepDropped(ctx context.Context, members []string) []string {
	in := make(map[string]struct{}, len(members))
	for _, s := range members {
		in[s] = struct{}{}
	}
	var dropped []string
	for _, s := range e.all {
		if _, ok := in[s]; !ok {
			dropped = append(dropped, s)
		}
	}
	if len(dropped) == 0 {
		return members
	}
	exists := make([]*redis.IntCmd, len(dropped))
	_, _ = e.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range dropped {
			exists[i] = p.Exists(ctx, s)
		}
		return nil
	})
	var back []any
	for i, s := range dropped {
		if exists[i].Err() != nil || exists[i].Val() == 1 { // unknown: kept, to be safe
			members = append(members, s)
			if exists[i].Err() == nil {
				back = append(back, s)
			}
		}
	}
	if len(back) > 0 {
		e.Logger.Warn("exporter: streams missing from the stream set written back", "streams", len(back))
		_ = e.Client.SAdd(ctx, e.Keys.Streams(), back...).Err()
	}
	return members
}

// streamGroup is streams one XREADGROUP may read together: every stream on
// a single node; on a cluster, those of one hash slot (a command naming keys
// of several slots is refused as CROSSSLOT, even on one node).
type streamGroup struct {
	slot    uint16
	streams []string
	// On a cluster the groups are polled without blocking (one blocking
	// read cannot wait on several slots), each group backing off while it
	// stays empty: wait is its current poll interval, next when it is due.
	wait time.Duration
	next time.Time
}

// Poll intervals of a stream group on a cluster: right away again while it
// has entries; after an empty read pollMin, doubling up to pollMax.
const (
	pollMin = 10 * time.Millisecond
	pollMax = maxBlock
)

// regroup sorts e.streams into stream groups, keeping the poll state of the
// slots already known.
func (e *Exporter) regroup() {
	if !e.cluster {
		if len(e.groups) != 1 {
			e.groups = []*streamGroup{{}}
		}
		e.groups[0].streams = e.streams
		return
	}
	old := make(map[uint16]*streamGroup, len(e.groups))
	for _, g := range e.groups {
		old[g.slot] = g
		g.streams = g.streams[:0]
	}
	e.groups = e.groups[:0]
	for _, s := range e.streams { // sorted: each group's streams are too
		slot := redisstore.Slot(s)
		g := old[slot]
		if g == nil {
			g = &streamGroup{slot: slot}
			old[slot] = g
		}
		if len(g.streams) == 0 {
			e.groups = append(e.groups, g)
		}
		g.streams = append(g.streams, s)
	}
}

// readArgs returns the Streams argument of an XREADGROUP over streams, every
// one from the same id.
func readArgs(streams []string, id string) []string {
	args := make([]string, 0, 2*len(streams))
	args = append(args, streams...)
	for range streams {
		args = append(args, id)
	}
	return args
}

func isNoKey(err error) bool {
	return err != nil && strings.Contains(err.Error(), "requires the key to exist")
}

func isNoGroup(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOGROUP")
}

// read adds up to the batch's free room of new entries from all streams,
// waiting at most block for the first. On a single node that is one
// blocking XREADGROUP over every stream; on a cluster, one non-blocking
// XREADGROUP per hash slot whose turn has come (see readSlots).
func (e *Exporter) read(ctx context.Context, b *batch, block time.Duration) error {
	if e.cluster {
		return e.readSlots(ctx, b, block, block < 0)
	}
	count := int64(e.BatchSize - b.n)
	res, err := e.Client.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group:    redisstore.ConsumerGroup,
		Consumer: e.Consumer,
		Streams:  readArgs(e.streams, ">"),
		Count:    count,
		Block:    block,
	}).Result()
	if isNoGroup(err) {
		// A stream was deleted, or re-created without its group.
		_ = e.refresh(ctx, true)
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	got := make(map[string]int, len(res))
	for _, s := range res {
		e.addTracked(b, s.Stream, s.Messages)
		got[s.Stream] = len(s.Messages)
	}
	if e.settle(ctx, e.streams, got, count) {
		e.readSet()
	}
	return nil
}

// readSlots reads new entries on a cluster: one XREADGROUP per due stream
// group, all sent in one pipeline (go-redis splits it per node, so each node
// gets one round trip). A group that had entries is read again at once; an
// empty one waits pollMin, doubling up to pollMax, so an idle experiment
// costs at most one command per pollMax. With all, every group is read
// (drain). When nothing is due it sleeps until the first group is, at most
// block.
func (e *Exporter) readSlots(ctx context.Context, b *batch, block time.Duration, all bool) error {
	now := e.Now()
	wake := now.Add(max(block, 0))
	var due []*streamGroup
	for _, g := range e.groups {
		if all || !g.next.After(now) {
			due = append(due, g)
		} else if g.next.Before(wake) {
			wake = g.next
		}
	}
	if len(due) == 0 {
		sleep(ctx, wake.Sub(now))
		return nil
	}
	room := max(e.BatchSize-b.n, 1)
	count := int64(max(room/len(due), min(room, 100)))
	cmds := make([]*redis.XStreamSliceCmd, len(due))
	_, _ = e.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, g := range due {
			cmds[i] = p.XReadGroup(ctx, &redis.XReadGroupArgs{
				Group:    redisstore.ConsumerGroup,
				Consumer: e.Consumer,
				Streams:  readArgs(g.streams, ">"),
				Count:    count,
				Block:    -1,
			})
		}
		return nil
	})
	var firstErr error
	var got, regroup, settled bool
	failed := 0
	for i, cmd := range cmds {
		g := due[i]
		res, err := cmd.Result()
		if err == nil || errors.Is(err, redis.Nil) {
			n := make(map[string]int, len(res))
			for _, s := range res {
				e.addTracked(b, s.Stream, s.Messages)
				n[s.Stream] = len(s.Messages)
			}
			settled = e.settle(ctx, g.streams, n, count) || settled
		}
		switch {
		case err == nil && len(res) > 0:
			got = true
			g.wait, g.next = 0, now
			continue
		case err == nil, errors.Is(err, redis.Nil):
			g.wait = min(max(2*g.wait, pollMin), pollMax)
		case isNoGroup(err):
			regroup = true
			g.wait = pollMin
		default:
			// This slot's node is down or moving: the others go on, and
			// this one is tried again later and later.
			if firstErr == nil {
				firstErr = err
			}
			failed++
			g.wait = min(max(2*g.wait, e.RetryMin), e.RetryMax)
		}
		g.next = now.Add(g.wait)
	}
	if failed < len(due) && firstErr != nil {
		e.logRedis(ctx, "read", firstErr) // some slots answered: no pause for the others
		firstErr = nil
	}
	if regroup {
		_ = e.refresh(ctx, true)
	} else if settled {
		e.readSet()
	}
	if !got && !all && firstErr == nil {
		sleep(ctx, min(pollMin, max(block, 0)))
	}
	return firstErr
}

// readOwnPending reads the entries this consumer read before a restart and
// never acknowledged, and flushes them in batches: one stream group at a
// time (a cluster's slots cannot be read together).
func (e *Exporter) readOwnPending(ctx, stop context.Context, b *batch) error {
	// A few tries, then on: what stays pending (a node down at the start)
	// is claimed later (claim takes this consumer's idle entries too).
	for try := 1; ; try++ {
		err := e.refresh(ctx, true)
		if err == nil {
			break
		}
		e.logRedis(ctx, "refresh streams", err)
		if try == historyTries {
			return nil
		}
		if !sleep(ctx, e.RetryMin) {
			return ctx.Err()
		}
	}
	for _, g := range slices.Clone(e.groups) {
		if err := e.readHistory(ctx, stop, b, g.streams); err != nil {
			return err
		}
	}
	if b.n > 0 {
		return e.flush(stop, b)
	}
	return nil
}

// historyTries bounds the attempts at the start-up reads before the
// exporter goes on without them.
const historyTries = 3

// readHistory reads this consumer's pending entries of streams, which one
// XREADGROUP may name together, flushing full batches.
func (e *Exporter) readHistory(ctx, stop context.Context, b *batch, streams []string) error {
	after := make(map[string]string, len(streams))
	for _, s := range streams {
		after[s] = "0"
	}
	failures := 0
	for len(after) > 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		args := make([]string, 0, 2*len(after))
		for s := range after {
			args = append(args, s)
		}
		slices.Sort(args)
		for _, s := range args[:len(after)] {
			args = append(args, after[s])
		}
		res, err := e.Client.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group:    redisstore.ConsumerGroup,
			Consumer: e.Consumer,
			Streams:  args,
			Count:    int64(max(e.BatchSize-b.n, 1)),
			Block:    -1, // history: never blocks
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			e.logRedis(ctx, "read pending", err)
			if failures++; failures == historyTries {
				return nil // left to claim
			}
			if isNoGroup(err) {
				// A stream of the group was deleted or re-created: drop
				// the ones without a group and go on with the rest.
				if err := e.refresh(ctx, true); err != nil {
					return err
				}
				for s := range after {
					if _, ok := e.known[s]; !ok {
						delete(after, s)
					}
				}
				continue
			}
			if !sleep(ctx, e.RetryMin) {
				return ctx.Err()
			}
			continue
		}
		got := make(map[string]bool, len(res))
		for _, s := range res {
			if len(s.Messages) > 0 {
				got[s.Stream] = true
				after[s.Stream] = s.Messages[len(s.Messages)-1].ID
				e.addTracked(b, s.Stream, s.Messages)
			}
		}
		for s := range after {
			if !got[s] {
				delete(after, s) // no more pending entries there
			}
		}
		if b.full(e.BatchSize) {
			if err := e.flush(stop, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// claim takes over the entries other consumers read more than ClaimIdle
// ago and never acknowledged: those of a dead exporter.
func (e *Exporter) claim(ctx context.Context, b *batch) error {
	// One pipelined XAUTOCLAIM per stream first (usually nothing to claim:
	// one round trip per node for all of them), then the streams with more
	// one by one. A stream whose node fails is claimed next time.
	count := int64(min(max(e.BatchSize-b.n, 1), 100))
	var firstErr error
	more := map[string]string{}
	for lo := 0; lo < len(e.all); lo += claimChunk {
		chunk := e.all[lo:min(lo+claimChunk, len(e.all))]
		cmds := make([]*redis.XAutoClaimCmd, len(chunk))
		_, _ = e.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, s := range chunk {
				cmds[i] = p.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: s, Group: redisstore.ConsumerGroup,
					Consumer: e.Consumer, MinIdle: e.ClaimIdle, Start: "0-0", Count: count})
			}
			return nil
		})
		for i, c := range cmds {
			msgs, next, err := c.Result()
			if err != nil {
				if !isNoGroup(err) && !isNoKey(err) && firstErr == nil {
					firstErr = err
				}
				continue
			}
			e.claimed(b, chunk[i], msgs)
			if next != "0-0" && next != "" {
				more[chunk[i]] = next
			}
		}
	}
	for s, start := range more {
		for b.n < e.BatchSize {
			msgs, next, err := e.Client.XAutoClaim(ctx, &redis.XAutoClaimArgs{
				Stream:   s,
				Group:    redisstore.ConsumerGroup,
				Consumer: e.Consumer,
				MinIdle:  e.ClaimIdle,
				Start:    start,
				Count:    int64(e.BatchSize - b.n),
			}).Result()
			if err != nil {
				if !isNoGroup(err) && firstErr == nil {
					firstErr = err
				}
				break
			}
			e.claimed(b, s, msgs)
			if next == "0-0" || next == "" {
				break
			}
			start = next
		}
	}
	e.forgetConsumers(ctx)
	return firstErr
}

// claimChunk bounds the streams of one pipeline of claims.
const claimChunk = 1000

func (e *Exporter) claimed(b *batch, stream string, msgs []redis.XMessage) {
	if len(msgs) > 0 {
		e.Logger.Info("exporter: claimed idle entries", "stream", stream, "entries", len(msgs))
		e.add(b, stream, msgs)
	}
}

// forgetConsumers removes the group's consumers that hold nothing and have
// been idle past ForgetIdle. Failures are only logged: it is housekeeping.
func (e *Exporter) forgetConsumers(ctx context.Context) {
	if e.ForgetIdle < 0 || len(e.all) == 0 {
		return
	}
	infos := make([]*redis.XInfoConsumersCmd, len(e.all))
	_, _ = e.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range e.all {
			infos[i] = p.XInfoConsumers(ctx, s, redisstore.ConsumerGroup)
		}
		return nil
	})
	type stale struct{ stream, consumer string }
	var gone []stale
	for i, cmd := range infos {
		consumers, err := cmd.Result()
		if err != nil {
			continue // NOGROUP, or the stream is gone: nothing to forget
		}
		for _, c := range consumers {
			if c.Name != e.Consumer && c.Pending == 0 && c.Idle > e.ForgetIdle {
				gone = append(gone, stale{e.all[i], c.Name})
			}
		}
	}
	if len(gone) == 0 {
		return
	}
	_, err := e.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, g := range gone {
			p.XGroupDelConsumer(ctx, g.stream, redisstore.ConsumerGroup, g.consumer)
		}
		return nil
	})
	if err != nil {
		e.logRedis(ctx, "forget idle consumers", err)
		return
	}
	e.Logger.Info("exporter: forgot idle consumers with nothing pending", "consumers", len(gone))
}
