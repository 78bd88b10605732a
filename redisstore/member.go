package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
)

// membersBatch is how many buckets Members scans per round trip.
const membersBatch = 64

// Members calls fn for every recorded member of an experiment, bucket by
// bucket of every generation (HSCAN, pipelined over batches of buckets), until fn returns an
// error, which Members returns. Members enrolled while it runs may or may
// not be seen, and so may members of a generation opened while it runs.
// For load-test invariant checks and reconciliation with the warehouse.
// Returns ENOTFOUND.
func (s *Store) Members(ctx context.Context, experimentID string, fn func(assign.Member) error) error {
	d, err := s.freshDefinition(ctx, experimentID) // every generation there is now
	if err != nil {
		return err
	}
	emit := func(kv []string) error {
		for i := 0; i+1 < len(kv); i += 2 {
			sec, g, err := d.parseMember(kv[i+1])
			if err != nil {
				return err
			}
			if err := fn(assign.Member{
				ExperimentID: d.ID,
				UserID:       DecodeUserID(kv[i]),
				Group:        g,
				EnrolledAt:   time.Unix(sec, 0).UTC(),
			}); err != nil {
				return err
			}
		}
		return nil
	}
	keys := d.allBucketKeys()
	for first := 0; first < len(keys); first += membersBatch {
		batch := keys[first:min(first+membersBatch, len(keys))]
		cmds := make([]*redis.ScanCmd, 0, len(batch))
		if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, key := range batch {
				cmds = append(cmds, p.HScan(ctx, key, 0, "", 1024))
			}
			return nil
		}); err != nil {
			return storeError(err)
		}
		for i, cmd := range cmds {
			kv, cursor := cmd.Val()
			if err := emit(kv); err != nil {
				return err
			}
			// A bucket past the listpack size answers in several pages.
			for cursor != 0 {
				if kv, cursor, err = s.client.HScan(ctx, batch[i], cursor, "", 1024).Result(); err != nil {
					return storeError(err)
				}
				if err := emit(kv); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// BucketKeys returns the keys of every member bucket of an experiment, every
// generation: for memory measurements. Returns ENOTFOUND.
func (s *Store) BucketKeys(ctx context.Context, experimentID string) ([]string, error) {
	d, err := s.freshDefinition(ctx, experimentID) // the layout as Redis has it now
	if err != nil {
		return nil, err
	}
	return d.allBucketKeys(), nil
}
