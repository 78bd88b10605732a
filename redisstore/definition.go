package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
)

// definitionJSON is the stored form of an experiment's immutable part
// (field "def" of the configuration hash).
type definitionJSON struct {
	ID          string        `json:"experiment_id"`
	Groups      []string      `json:"groups"`
	Eligibility []assign.Rule `json:"eligibility,omitempty"`
	Layer       string        `json:"layer,omitempty"`
	Salt        string        `json:"salt"`
	CreatedAt   time.Time     `json:"created_at"`
}

// definition is what enrollment needs of an experiment and never changes
// after creation, so it is cached in process.
type definition struct {
	definitionJSON
	prefix  string
	config  string // configuration hash key
	events  string // event stream key
	buckets uint32 // member bucket count, a power of two
	epoch   int64  // t0, unix seconds
	rules   assign.Experiment

	// In a layer only.
	layer        string // layer hash key
	ownerBuckets uint32 // the layer's owner bucket count, a power of two
}

func (s *Store) newDefinition(def definitionJSON, buckets uint32, epoch int64, ownerBuckets uint32) *definition {
	prefix := s.keys.Prefix(def.ID, def.Layer)
	d := &definition{
		definitionJSON: def,
		prefix:         prefix,
		config:         ConfigKey(prefix),
		events:         EventsKey(prefix),
		buckets:        buckets,
		epoch:          epoch,
		rules:          assign.Experiment{Eligibility: def.Eligibility},
	}
	if def.Layer != "" {
		d.layer = s.keys.Layer(def.Layer)
		d.ownerBuckets = ownerBuckets
	}
	return d
}

// bucketKey returns the member bucket key of a draw's bucket.
func (d *definition) bucketKey(draw uint32) string {
	return MembersKey(d.prefix, draw&(d.buckets-1))
}

// group returns the name of group i, or "" when out of range.
func (d *definition) group(i int) string {
	if i < 0 || i >= len(d.Groups) {
		return ""
	}
	return d.Groups[i]
}

// definition returns the cached definition of experiment id, reading it from
// Redis on a miss (two round trips, once per process and experiment).
// Returns ENOTFOUND, never cached.
func (s *Store) definition(ctx context.Context, id string) (*definition, error) {
	if v, ok := s.defs.Load(id); ok {
		return v.(*definition), nil
	}
	if assign.ValidateID(id) != nil {
		return nil, notFound(id)
	}
	prefix, err := s.prefix(ctx, id)
	if err != nil {
		return nil, err
	}
	vals, err := s.client.HMGet(ctx, ConfigKey(prefix), FieldDefinition, FieldBuckets, FieldEpoch, FieldOwnerBuckets).Result()
	if err != nil {
		return nil, storeError(err)
	}
	d, err := s.parseDefinition(id, str(vals[0]), str(vals[1]), str(vals[2]), str(vals[3]))
	if err != nil {
		return nil, err
	}
	s.defs.Store(id, d)
	return d, nil
}

// prefix returns the key prefix of experiment id from the id reservation in
// the layers hash. Returns ENOTFOUND.
func (s *Store) prefix(ctx context.Context, id string) (string, error) {
	layer, err := s.client.HGet(ctx, s.keys.Layers(), id).Result()
	if errors.Is(err, redis.Nil) {
		return "", notFound(id)
	} else if err != nil {
		return "", storeError(err)
	}
	return s.keys.Prefix(id, layer), nil
}

// parseDefinition builds a definition from fields of the configuration hash;
// ownerBuckets is read only for an experiment in a layer.
func (s *Store) parseDefinition(id, def, buckets, epoch, ownerBuckets string) (*definition, error) {
	if def == "" {
		return nil, notFound(id)
	}
	var dj definitionJSON
	if err := json.Unmarshal([]byte(def), &dj); err != nil {
		return nil, assign.Errorf(assign.EINTERNAL, "experiment %q: bad definition: %v", id, err)
	}
	b, ok := parsePowerOfTwo(buckets)
	if !ok {
		return nil, assign.Errorf(assign.EINTERNAL, "experiment %q: bad bucket count %q", id, buckets)
	}
	t0, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return nil, assign.Errorf(assign.EINTERNAL, "experiment %q: bad epoch %q", id, epoch)
	}
	var ob uint32
	if dj.Layer != "" {
		if ob, ok = parsePowerOfTwo(ownerBuckets); !ok {
			return nil, assign.Errorf(assign.EINTERNAL, "experiment %q: bad layer owner bucket count %q", id, ownerBuckets)
		}
	}
	return s.newDefinition(dj, b, t0, ob), nil
}

func parsePowerOfTwo(s string) (uint32, bool) {
	b, err := strconv.ParseUint(s, 10, 32)
	return uint32(b), err == nil && b != 0 && b&(b-1) == 0
}

// BucketCount returns the number of member buckets of an experiment of
// maximum sample size max: about 64 members per bucket when full, so each
// bucket stays in Redis's compact listpack encoding (hash-max-listpack-entries
// is 128 by default, 512 on many servers), between 1 and 65536 buckets.
// It is fixed at creation; raising the maximum later makes buckets larger.
func BucketCount(max int64) uint32 {
	want := (max + 63) / 64
	b := int64(1)
	for b < want && b < 1<<16 {
		b <<= 1
	}
	return uint32(b)
}

func notFound(id string) error {
	return assign.Errorf(assign.ENOTFOUND, "experiment %q not found", id)
}

// str returns an HMGET value as a string, "" for a missing field.
func str(v any) string {
	s, _ := v.(string)
	return s
}
