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
			default:
				return err
			}
		}
	}
	e.streams = e.streams[:0]
	for _, s := range members {
		if _, ok := e.known[s]; ok {
			e.streams = append(e.streams, s)
		}
	}
	e.lastRefresh = e.Now()
	return nil
}

func isNoKey(err error) bool {
	return err != nil && strings.Contains(err.Error(), "requires the key to exist")
}

func isNoGroup(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOGROUP")
}

// read adds up to the batch's free room of new entries from all streams,
// waiting at most block for the first.
func (e *Exporter) read(ctx context.Context, b *batch, block time.Duration) error {
	args := make([]string, 0, 2*len(e.streams))
	args = append(args, e.streams...)
	for range e.streams {
		args = append(args, ">")
	}
	res, err := e.Client.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group:    redisstore.ConsumerGroup,
		Consumer: e.Consumer,
		Streams:  args,
		Count:    int64(e.BatchSize - b.n),
		Block:    block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if isNoGroup(err) {
		// A stream was deleted, or re-created without its group.
		_ = e.refresh(ctx, true)
	}
	if err != nil {
		return err
	}
	for _, s := range res {
		e.add(b, s.Stream, s.Messages)
	}
	return nil
}

// readOwnPending reads the entries this consumer read before a restart and
// never acknowledged, and flushes them in batches.
func (e *Exporter) readOwnPending(ctx, stop context.Context, b *batch) error {
	for {
		if err := e.refresh(ctx, true); err != nil {
			e.logRedis(ctx, "refresh streams", err)
			if !sleep(ctx, e.RetryMin) {
				return ctx.Err()
			}
			continue
		}
		break
	}
	after := make(map[string]string, len(e.streams))
	for _, s := range e.streams {
		after[s] = "0"
	}
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
			Count:    int64(e.BatchSize - b.n),
			Block:    -1, // history: never blocks
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			e.logRedis(ctx, "read pending", err)
			if isNoGroup(err) {
				return e.readOwnPending(ctx, stop, b)
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
				e.add(b, s.Stream, s.Messages)
			}
		}
		for s := range after {
			if !got[s] {
				delete(after, s) // no more pending entries there
			}
		}
		if b.full(e.BatchSize) || (len(after) == 0 && b.n > 0) {
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
	for _, s := range e.streams {
		start := "0-0"
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
				if isNoGroup(err) {
					break
				}
				return err
			}
			if len(msgs) > 0 {
				e.Logger.Info("exporter: claimed idle entries", "stream", s, "entries", len(msgs))
				e.add(b, s, msgs)
			}
			if next == "0-0" || next == "" {
				break
			}
			start = next
		}
	}
	e.forgetConsumers(ctx)
	return nil
}

// forgetConsumers removes the group's consumers that hold nothing and have
// been idle past ForgetIdle. Failures are only logged: it is housekeeping.
func (e *Exporter) forgetConsumers(ctx context.Context) {
	if e.ForgetIdle < 0 || len(e.streams) == 0 {
		return
	}
	infos := make([]*redis.XInfoConsumersCmd, len(e.streams))
	_, _ = e.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range e.streams {
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
				gone = append(gone, stale{e.streams[i], c.Name})
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
