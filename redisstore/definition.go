package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/answercache"
	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/scripts"
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

// definition is what enrollment needs of an experiment. It never changes
// after creation, except the member bucket layout; so it is cached in
// process. The scripts check that a caller's definition is still Redis's:
// its fingerprint on every call (the experiment may have been lost and
// created again, with another salt, other groups or rules, another t0) and
// its layout on every miss; a refused caller reloads it (withDefinition).
type definition struct {
	definitionJSON
	prefix string
	config string // configuration hash key
	events string // event stream key
	ovr    string // QA overrides hash key
	// buckets are the member bucket counts of each generation, oldest first,
	// each a power of two; new members go to the last (see GrowAt).
	buckets []uint32
	layout  string // FieldBuckets[,FieldGenerations] as stored: the enrollment script checks it
	epoch   int64  // t0, unix seconds
	fp      string // FieldFingerprint as stored ("" for an experiment created before it existed)
	rules   assign.Experiment

	// fp, layout and the constant keys as script arguments, converted to
	// interfaces once here rather than on every call of the hot path.
	fpArg, layoutArg                       any
	configArg, eventsArg, ovrArg, layerArg any

	// answers is the experiment's handle in the answer cache (nil without
	// one): one per id, whichever definition holds it.
	answers *answercache.Experiment

	// In a layer only.
	layer        string // layer hash key
	ownerBuckets uint32 // the layer's owner bucket count, a power of two
}

func (s *Store) newDefinition(def definitionJSON, buckets []uint32, layout string, epoch int64, fp string, ownerBuckets uint32) *definition {
	prefix := s.keys.Prefix(def.ID, def.Layer)
	d := &definition{
		definitionJSON: def,
		prefix:         prefix,
		config:         ConfigKey(prefix),
		events:         EventsKey(prefix),
		ovr:            OverridesKey(prefix),
		buckets:        buckets,
		layout:         layout,
		epoch:          epoch,
		fp:             fp,
		rules:          assign.Experiment{Eligibility: def.Eligibility},
		fpArg:          fp,
		layoutArg:      layout,
	}
	d.configArg, d.eventsArg, d.ovrArg = d.config, d.events, d.ovr
	if c := s.Answers; c != nil {
		d.answers = c.Experiment(def.ID) // one handle per id: whichever path read the definition
	}
	if def.Layer != "" {
		d.layer = s.keys.Layer(def.Layer)
		d.layerArg = d.layer
		d.ownerBuckets = ownerBuckets
	}
	return d
}

// bucketKey returns the key of a draw's member bucket in the current (last)
// generation, where new members go.
func (d *definition) bucketKey(draw uint32) string {
	return d.generationKey(len(d.buckets)-1, draw)
}

// generationKey returns the key of a draw's member bucket in generation g.
func (d *definition) generationKey(g int, draw uint32) string {
	n := d.buckets[g]
	if g == 0 {
		return MembersKey(d.prefix, draw&(n-1))
	}
	return GenerationMembersKey(d.prefix, n, draw&(n-1))
}

// olderBucketKeys appends to keys the draw's member buckets of the earlier
// generations, newest first: where an existing member may also be.
func (d *definition) olderBucketKeys(keys []string, draw uint32) []string {
	for g := len(d.buckets) - 2; g >= 0; g-- {
		keys = append(keys, d.generationKey(g, draw))
	}
	return keys
}

// allBucketKeys returns every member bucket key of every generation.
func (d *definition) allBucketKeys() []string {
	return layoutBucketKeys(d.prefix, d.buckets)
}

func layoutBucketKeys(prefix string, counts []uint32) []string {
	var keys []string
	for g, n := range counts {
		for b := uint32(0); b < n; b++ {
			if g == 0 {
				keys = append(keys, MembersKey(prefix, b))
			} else {
				keys = append(keys, GenerationMembersKey(prefix, n, b))
			}
		}
	}
	return keys
}

// parseLayout reads the member bucket layout from the fields buckets and gen
// of a configuration hash: the layout string the enrollment script compares,
// and the counts of each generation, oldest first.
func parseLayout(buckets, generations string) (string, []uint32, error) {
	layout := buckets
	if generations != "" {
		layout += "," + generations
	}
	var counts []uint32
	for _, f := range strings.Split(layout, ",") {
		b, ok := parsePowerOfTwo(f)
		if !ok || (len(counts) > 0 && b <= counts[len(counts)-1]) {
			return "", nil, fmt.Errorf("bad member bucket layout %q", layout)
		}
		counts = append(counts, b)
	}
	return layout, counts, nil
}

// LayoutBucketKeys returns every member bucket key of the experiment at
// prefix whose configuration hash has the given buckets and gen fields: for
// tools that measure Redis memory.
func LayoutBucketKeys(prefix, buckets, generations string) ([]string, error) {
	_, counts, err := parseLayout(buckets, generations)
	if err != nil {
		return nil, err
	}
	return layoutBucketKeys(prefix, counts), nil
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
		d := v.(*definition)
		s.healSoon(id, d.Layer)
		return d, nil
	}
	return s.freshDefinition(ctx, id)
}

// withDefinition calls run (one call of a script given d: its fingerprint,
// its member bucket layout, its salt and groups) and, while the script
// answers that d is not Redis's (scripts.ReplyStale), calls it again with the
// definition read afresh. Each refusal means the experiment was created
// again (or rebuilt by a restore) or opened a new generation since the read,
// and an experiment has at most MaxGenerations, so a few tries suffice; a
// refusal after them is EUNAVAILABLE. It returns the definition last used
// and the script's reply; errors are store errors.
func (s *Store) withDefinition(ctx context.Context, d *definition, run func(*definition) (int64, error)) (*definition, int64, error) {
	code, err := run(d)
	for retry := 0; err == nil && code == scripts.ReplyStale; retry++ {
		if retry > MaxGenerations {
			s.defs.Delete(d.ID)
			return nil, 0, assign.Errorf(assign.EUNAVAILABLE, "experiment %q is being reconfigured; try again", d.ID)
		}
		if d, err = s.freshDefinition(ctx, d.ID); err != nil {
			return nil, 0, err
		}
		code, err = run(d)
	}
	if err != nil {
		return nil, 0, storeError(err)
	}
	return d, code, nil
}

// freshDefinition reads the definition of experiment id from Redis and caches
// it: for the paths that must not trust a cached member bucket layout
// without the enrollment script's check (member listings and lookups,
// restores). Returns ENOTFOUND, never cached.
func (s *Store) freshDefinition(ctx context.Context, id string) (*definition, error) {
	if assign.ValidateID(id) != nil {
		return nil, notFound(id)
	}
	prefix, err := s.prefix(ctx, id)
	if err != nil {
		return nil, err
	}
	// One HMGET: a consistent snapshot of the definition and its fingerprint.
	vals, err := s.client.HMGet(ctx, ConfigKey(prefix), FieldDefinition, FieldBuckets, FieldGenerations, FieldEpoch, FieldFingerprint, FieldOwnerBuckets).Result()
	if err != nil {
		return nil, storeError(err)
	}
	d, err := s.parseDefinition(id, str(vals[0]), str(vals[1]), str(vals[2]), str(vals[3]), str(vals[4]), str(vals[5]))
	if err != nil {
		return nil, err
	}
	s.healSoon(id, d.Layer)
	if c := s.Answers; c != nil {
		if prev, ok := s.defs.Load(id); ok && prev.(*definition).fp != d.fp {
			// Created again: what was kept of the old one is not this one's.
			c.Invalidate(id)
		}
	}
	s.defs.Store(id, d)
	return d, nil
}

// prefix returns the key prefix of experiment id from the id reservation in
// the layers hash. An experiment outside any layer whose reservation is
// missing (its index entries lost while its own keys survived, as a failover
// of the index's shard can do on a cluster) is found at its plain prefix and
// its index entries are written again. Returns ENOTFOUND.
func (s *Store) prefix(ctx context.Context, id string) (string, error) {
	layer, err := s.client.HGet(ctx, s.keys.Layers(), id).Result()
	if err == nil {
		return s.keys.Prefix(id, layer), nil
	} else if !errors.Is(err, redis.Nil) {
		return "", storeError(err)
	}
	prefix := s.keys.Prefix(id, "")
	ok, err := s.client.HExists(ctx, ConfigKey(prefix), FieldDefinition).Result()
	if err != nil {
		return "", storeError(err)
	} else if !ok {
		return "", notFound(id)
	}
	// Best effort: found at its prefix either way.
	if s.client.HSetNX(ctx, s.keys.Layers(), id, "").Err() == nil {
		_ = s.heal(ctx, id, "")
	}
	return prefix, nil
}

// HealInterval is how often a process writes again the index entries of
// each experiment it serves (healSoon).
const HealInterval = 10 * time.Minute

// healSoon writes the index entries of an experiment this process serves, in
// the background, at most once per HealInterval: the listing and the
// exporter's stream set then hold every experiment in use, whatever an index
// shard may have lost, also after this process first read it. Best effort:
// a failure (the index's node down) is tried again a HealInterval later, and
// never delays or fails the caller.
func (s *Store) healSoon(id, layer string) {
	now := time.Now().UnixNano()
	if v, ok := s.healed.Load(id); ok && now-v.(int64) < int64(HealInterval) {
		return
	}
	s.healed.Store(id, now)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.heal(ctx, id, layer)
	}()
}

// heal writes the listing and stream-set entries of an existing experiment,
// each idempotent. Creation writes them before the experiment itself, so only
// a loss of the index keys can leave an experiment without them. Only while
// the experiment is there under that prefix, and never its reservation: a
// process still holding the definition of an experiment Redis lost, racing a
// re-creation, must not reserve the id for the old layer (the id could then
// not be created in another); a listing entry or stream left by such a race
// is skipped by listings and the exporter. The reservation is written again
// only by prefix, which finds the experiment itself at its plain prefix.
func (s *Store) heal(ctx context.Context, id, layer string) error {
	prefix := s.keys.Prefix(id, layer)
	if ok, err := s.client.HExists(ctx, ConfigKey(prefix), FieldDefinition).Result(); err != nil {
		return storeError(err)
	} else if !ok {
		return nil
	}
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAddNX(ctx, s.keys.Experiments(), redis.Z{Member: id})
		p.SAdd(ctx, s.keys.Streams(), EventsKey(prefix))
		return nil
	})
	return storeError(err)
}

// parseDefinition builds a definition from fields of the configuration hash;
// ownerBuckets is read only for an experiment in a layer.
func (s *Store) parseDefinition(id, def, buckets, generations, epoch, fp, ownerBuckets string) (*definition, error) {
	if def == "" {
		return nil, notFound(id)
	}
	var dj definitionJSON
	if err := json.Unmarshal([]byte(def), &dj); err != nil {
		return nil, assign.Errorf(assign.EINTERNAL, "experiment %q: bad definition: %v", id, err)
	}
	layout, counts, err := parseLayout(buckets, generations)
	if err != nil {
		return nil, assign.Errorf(assign.EINTERNAL, "experiment %q: %v", id, err)
	}
	t0, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return nil, assign.Errorf(assign.EINTERNAL, "experiment %q: bad epoch %q", id, epoch)
	}
	var ob uint32
	if dj.Layer != "" {
		var ok bool
		if ob, ok = parsePowerOfTwo(ownerBuckets); !ok {
			return nil, assign.Errorf(assign.EINTERNAL, "experiment %q: bad layer owner bucket count %q", id, ownerBuckets)
		}
	}
	if dj.ID != id {
		return nil, assign.Errorf(assign.EINTERNAL, "experiment %q: its definition names experiment %q", id, dj.ID)
	}
	return s.newDefinition(dj, counts, layout, t0, fp, ob), nil
}

func parsePowerOfTwo(s string) (uint32, bool) {
	b, err := strconv.ParseUint(s, 10, 32)
	return uint32(b), err == nil && b != 0 && b&(b-1) == 0
}

// BucketCount returns the number of member buckets that hold n members at
// about 64 per bucket, so each stays in Redis's compact listpack encoding
// (hash-max-listpack-entries is 128 by default, 512 on many servers),
// between 1 and MaxBuckets. A restore sizes the one generation it rebuilds
// so; a creation starts smaller (InitialBucketCount).
func BucketCount(max int64) uint32 {
	want := (max + 63) / 64
	b := int64(1)
	for b < want && b < MaxBuckets {
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

// Growth of the member buckets, done by the enrollment script (step 7 of
// scripts/enroll.lua, which gets these constants from scripts/contract.go):
// once the members outnumber GrowAt per bucket over all the generations, a
// generation twice as large as all before opens, up to MaxGenerations
// generations of at most MaxBuckets.
const (
	GrowAt         = scripts.GrowAt
	MaxGenerations = scripts.MaxGenerations
	MaxBuckets     = scripts.MaxBuckets
)

// InitialBucketCount returns the member buckets an experiment of maximum
// sample size max starts with: room for an eighth of the cap at 64 per
// bucket. The buckets grow by generations as members come, so an experiment
// far below its cap is not spread over mostly empty buckets (each a key of
// its own), and a full one has three generations. Not fewer, larger ones:
// a new user is looked up in every generation, and each lookup scans a
// listpack, so every generation costs the script about a microsecond.
func InitialBucketCount(max int64) uint32 {
	return BucketCount((max + 7) / 8)
}
