package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
)

// LayerOwnerBuckets returns the owner bucket count of a layer whose first
// experiment has maximum sample size maxSampleSize. It is fixed then, for
// good, while owners accumulate over the layer's experiments and are never
// released, so it leaves room: BucketCount of 4 times the first maximum (a
// full first experiment fills buckets about 16 deep: the per-key overhead
// stays small, and buckets stay listpacks up to about 8 such experiments at
// the default hash-max-listpack-entries of 128), and at least 1024 buckets.
// Past that, buckets turn into hashtables: still correct, about twice the
// memory per owner.
func LayerOwnerBuckets(maxSampleSize int64) uint32 {
	return BucketCount(max(4*maxSampleSize, 1<<16))
}

// LayerSlot returns the slot of a user in a layer, 0..LayerSlots-1: the slot
// decides which experiment of the layer the user is offered.
func LayerSlot(layer, userID string) int {
	slot, _ := layerPosition(layer, userID, 1)
	return slot
}

// layerPosition returns the user's slot in a layer and owner bucket (out of
// ownerBuckets, a power of two). Both come from the one layer draw: the slot
// from its top bits, the bucket from its low bits, which are independent for
// a cryptographic hash.
func layerPosition(layer, userID string, ownerBuckets uint32) (slot int, bucket uint32) {
	u := assign.NewLayerDraw(layer, userID)
	slot = min(int(u*LayerSlots), LayerSlots-1)
	// u is a 53-bit integer over 2^53, so this product is exact.
	bucket = uint32(uint64(u*(1<<53))) & (ownerBuckets - 1)
	return slot, bucket
}

// LayerSplit returns how many of a layer's LayerSlots slots each experiment
// id is offered; experiments not taking traffic (paused, stopped, rolled
// out) are absent. An unknown layer gives an empty map. For the admin API,
// tests and tools.
func (s *Store) LayerSplit(ctx context.Context, layer string) (map[string]int, error) {
	if err := assign.ValidateLayer(layer); err != nil || layer == "" {
		return nil, assign.Invalidf("layer", "bad layer name %q", layer)
	}
	m, err := s.client.HGetAll(ctx, s.keys.Layer(layer)).Result()
	if err != nil {
		return nil, storeError(err)
	}
	split := map[string]int{}
	for f, idx := range m {
		rest, ok := strings.CutPrefix(f, LayerFieldSlot)
		if _, err := strconv.Atoi(rest); !ok || err != nil {
			continue // not a slot
		}
		id, ok := m[LayerFieldExperiment+idx]
		if !ok {
			return nil, assign.Errorf(assign.EINTERNAL, "layer %q: slot %s offered to unknown index %q", layer, f, idx)
		}
		split[id]++
	}
	return split, nil
}

// LayerOwner returns the id of the experiment of the layer a user belongs
// to, read-only; ok is false when the user joined none. For tests and tools.
func (s *Store) LayerOwner(ctx context.Context, layer, userID string) (experimentID string, ok bool, err error) {
	if err := assign.ValidateLayer(layer); err != nil || layer == "" {
		return "", false, assign.Invalidf("layer", "bad layer name %q", layer)
	}
	key := s.keys.Layer(layer)
	ob, err := s.client.HGet(ctx, key, LayerFieldOwnerBuckets).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil // no experiment was ever created in the layer
	} else if err != nil {
		return "", false, storeError(err)
	}
	n, good := parsePowerOfTwo(ob)
	if !good {
		return "", false, assign.Errorf(assign.EINTERNAL, "layer %q: bad owner bucket count %q", layer, ob)
	}
	_, bucket := layerPosition(layer, userID, n)
	idx, err := s.client.HGet(ctx, s.keys.LayerOwner(layer, bucket), EncodeUserID(userID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	} else if err != nil {
		return "", false, storeError(err)
	}
	id, err := s.client.HGet(ctx, key, LayerFieldExperiment+idx).Result()
	if err != nil {
		return "", false, storeError(err)
	}
	return id, true, nil
}
