package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/redisstore"
)

// VerifyRedis checks the invariants of Verification for every experiment of
// pop: the counters straight from the configuration hashes of redisstore's
// key layout, the members through (*redisstore.Store).Members, compared with
// the run's ledger.
func VerifyRedis(ctx context.Context, rdb redis.UniversalClient, keys redisstore.Keys, pop *Population, ledger *Ledger) (*Verification, error) {
	store := redisstore.New(rdb, keys)
	v := &Verification{Store: "redis", OK: true}
	mc := newMemberChecker(pop, ledger, v)
	for i, id := range pop.Experiments {
		c, err := redisCounters(ctx, rdb, keys, id)
		if err != nil {
			return nil, err
		}
		if err := store.Members(ctx, id, func(m assign.Member) error {
			c.Members++
			c.GroupMembers[m.Group]++
			if !mc.member(i, m.UserID, m.Group) {
				c.ForeignMembers++
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("verify %s: members: %w", id, err)
		}
		v.checkCounts(*c)
	}
	mc.finish()
	return v, nil
}

// redisCounters reads an experiment's cap and counters from its
// configuration hash.
func redisCounters(ctx context.Context, rdb redis.UniversalClient, keys redisstore.Keys, id string) (*ExperimentCheck, error) {
	layer, err := rdb.HGet(ctx, keys.Layers(), id).Result()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("verify %s: no such experiment (not in %s)", id, keys.Layers())
	} else if err != nil {
		return nil, fmt.Errorf("verify %s: %w", id, err)
	}
	cfg, err := rdb.HGetAll(ctx, redisstore.ConfigKey(keys.Prefix(id, layer))).Result()
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", id, err)
	} else if len(cfg) == 0 {
		return nil, fmt.Errorf("verify %s: no configuration at %q", id, redisstore.ConfigKey(keys.Prefix(id, layer)))
	}
	var def struct {
		Groups []string `json:"groups"`
	}
	if err := json.Unmarshal([]byte(cfg[redisstore.FieldDefinition]), &def); err != nil {
		return nil, fmt.Errorf("verify %s: definition: %w", id, err)
	}
	c := &ExperimentCheck{ID: id, GroupCounters: make(map[string]int64), GroupMembers: make(map[string]int64)}
	if c.Max, err = strconv.ParseInt(cfg[redisstore.FieldMax], 10, 64); err != nil {
		return nil, fmt.Errorf("verify %s: field %s: %w", id, redisstore.FieldMax, err)
	}
	if c.Counter, err = strconv.ParseInt(cfg[redisstore.FieldEnrolled], 10, 64); err != nil {
		return nil, fmt.Errorf("verify %s: field %s: %w", id, redisstore.FieldEnrolled, err)
	}
	for i, g := range def.Groups {
		f := redisstore.FieldGroupCount + strconv.Itoa(i)
		if c.GroupCounters[g], err = strconv.ParseInt(cfg[f], 10, 64); err != nil {
			return nil, fmt.Errorf("verify %s: field %s: %w", id, f, err)
		}
	}
	return c, nil
}
