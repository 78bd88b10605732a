package loadtest

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/redisstore"
)

// RedisMemory is what experiments cost in Redis, by MEMORY USAGE (SAMPLES 0:
// every element counted) of their keys.
type RedisMemory struct {
	Members             int64   `json:"members"`
	Buckets             int64   `json:"buckets"`
	MemberBytes         int64   `json:"member_bytes"` // all member buckets
	StreamBytes         int64   `json:"stream_bytes"` // event streams (one entry per enrollment until exported and trimmed)
	ConfigBytes         int64   `json:"config_bytes"` // configuration hashes
	PerMember           float64 `json:"bytes_per_member"`
	PerMemberWithStream float64 `json:"bytes_per_member_with_stream"`
}

// MeasureRedisMemory sums MEMORY USAGE over the keys of the experiments ids,
// pipelined.
func MeasureRedisMemory(ctx context.Context, rdb redis.UniversalClient, keys redisstore.Keys, ids []string) (*RedisMemory, error) {
	m := &RedisMemory{}
	usage := func(p redis.Pipeliner, key string) *redis.IntCmd { return p.MemoryUsage(ctx, key, 0) }
	for _, id := range ids {
		layer, err := rdb.HGet(ctx, keys.Layers(), id).Result()
		if err != nil {
			return nil, fmt.Errorf("memory %s: %w", id, err)
		}
		prefix := keys.Prefix(id, layer)
		vals, err := rdb.HMGet(ctx, redisstore.ConfigKey(prefix), redisstore.FieldBuckets, redisstore.FieldGenerations, redisstore.FieldEnrolled).Result()
		if err != nil {
			return nil, fmt.Errorf("memory %s: %w", id, err)
		}
		str := func(v any) string { s, _ := v.(string); return s }
		bucketKeys, err1 := redisstore.LayoutBucketKeys(prefix, str(vals[0]), str(vals[1]))
		n, err2 := strconv.ParseInt(fmt.Sprint(vals[2]), 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("memory %s: %w", id, err)
		}
		m.Members += n
		m.Buckets += int64(len(bucketKeys))
		p := rdb.Pipeline()
		cfg, stream := usage(p, redisstore.ConfigKey(prefix)), usage(p, redisstore.EventsKey(prefix))
		if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("memory %s: %w", id, err)
		}
		m.ConfigBytes += cfg.Val()
		m.StreamBytes += stream.Val() // 0 when there is no stream
		const batch = 512
		for lo := 0; lo < len(bucketKeys); lo += batch {
			p := rdb.Pipeline()
			cmds := make([]*redis.IntCmd, 0, batch)
			for _, key := range bucketKeys[lo:min(lo+batch, len(bucketKeys))] {
				cmds = append(cmds, usage(p, key))
			}
			if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
				return nil, fmt.Errorf("memory %s: %w", id, err)
			}
			for _, c := range cmds {
				m.MemberBytes += c.Val() // an empty bucket does not exist: 0
			}
		}
	}
	if m.Members > 0 {
		m.PerMember = float64(m.MemberBytes) / float64(m.Members)
		m.PerMemberWithStream = float64(m.MemberBytes+m.StreamBytes) / float64(m.Members)
	}
	return m, nil
}
