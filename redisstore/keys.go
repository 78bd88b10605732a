// Package redisstore implements the assign services on Redis with go-redis.
//
// # Key layout
//
// Every key of one experiment starts with the experiment's prefix, whose
// hash tag puts them all in one Redis Cluster slot so a single script can
// touch them:
//
//	prefix = "{exp:<id>}"               experiment outside any layer
//	prefix = "{layer:<layer>}:<id>"     experiment in a layer (shares the layer's slot)
//
//	<prefix>                  HASH    configuration and counters (fields below)
//	<prefix>:m:<bucket>       HASH    members: compact user id -> (enrolled unix s - t0)*128 + group index
//	<prefix>:m<count>:<bucket>  HASH  members of a later bucket generation of count buckets (same values)
//	<prefix>:events           STREAM  enrollment and configuration events for the warehouse
//	<prefix>:ovr              HASH    QA overrides: user id as given -> group index (+ scripts.OverrideExported once exported)
//
// A layer of mutually exclusive experiments has two more kinds of keys, in the
// same slot as its experiments (the enrollment, creation and update scripts
// of a layer's experiment pass them in KEYS; an experiment outside any layer
// never touches them):
//
//	{layer:<layer>}                 HASH  the layer's traffic split (fields below)
//	{layer:<layer>}:owner:<bucket>  HASH  owners: compact user id -> layer index of the experiment the user joined
//
// The layer hash holds:
//
//	s<slot>     layer index of the experiment offered to the users of slot
//	            0..LayerSlots-1; absent when no experiment takes traffic
//	run         layer indexes of the experiments taking traffic (running and
//	            not rolled out), comma separated, in the order they started
//	next        last layer index given out (1, 2, ...)
//	e<index>    experiment id of a layer index
//	ob          owner bucket count (a power of two, fixed by the first experiment)
//
// A user's slot is floor(u * LayerSlots) and their owner bucket the low bits of
// u * 2^53 modulo the owner bucket count, where u = assign.NewLayerDraw(layer,
// user), a draw independent of every experiment's own draws. Each experiment
// taking traffic is offered an equal share of the slots; when one starts or
// stops taking traffic the scripts move as few slots as possible
// (scripts/layer.lua). A user is offered only the experiment of their slot,
// and once a member of an experiment of the layer is its owner for good:
// refused (not_eligible) by every other experiment of the layer, whatever
// the status or rollout of the one they joined. Owners are written in the same
// script call as the member, and owner buckets are sized like member buckets
// (see LayerOwnerBuckets) so they stay listpacks.
//
// Global keys, touched only by admin operations and the exporter, never by
// the enrollment script:
//
//	assign:experiments      ZSET    all experiment ids, score 0, listed by lex order
//	assign:layers           HASH    experiment id -> layer ("" outside any layer)
//	assign:streams          SET     every event stream key, for the exporter
//
// Creation writes the global keys first: HSETNX assign:layers reserves the id
// atomically (so one id can never be created under two prefixes), then the
// id is added to assign:experiments and its stream to assign:streams, and
// only then a script creates the configuration hash and the stream with its
// consumer group. A failed creation may therefore leave an id without a
// configuration (listings skip it) and a stream name that does not exist yet
// (the exporter skips it: XREADGROUP answers NOGROUP).
//
// All of these may sit under a namespace (see Keys), which tests use to run
// side by side on one server.
//
// Members are spread over bucket hashes (a user's bucket is
// assign.NewDraw(...).Bucket modulo a power-of-two count) so each stays in
// the compact listpack encoding, and grouped in generations. An experiment
// starts with a few buckets (InitialBucketCount); once the members outnumber
// GrowAt per bucket over all generations, the enrollment script opens a
// generation twice as large as all before (field gen) and new members go
// there; members never move. So an experiment far below its cap is not
// spread over mostly empty buckets, and one whose cap was raised does not
// pack its buckets past the listpack limit. The script looks a user up in
// every generation, newest first, and refuses (scripts.ReplyStale) a caller
// whose cached layout (buckets[,gen]) is out of date, so a process that
// cached an older layout reloads it instead of enrolling a member of a newer
// generation twice. It refuses too a caller whose cached definition has
// another fingerprint (field fp: the definition and t0, so another salt,
// other groups or rules): the same id created again after Redis lost it. The user id is stored compactly: a UUID as its
// 16 raw bytes, a decimal number as itself (listpack stores it as an integer),
// anything else as is (see EncodeUserID).
package redisstore

import (
	"strconv"

	"github.com/assign-dev/assign/scripts"
)

// Keys builds key names under an optional namespace, so several deployments
// or test runs can share one Redis. The namespace goes before the hash tag,
// which keeps every experiment's keys in one slot.
type Keys struct {
	Namespace string // e.g. "test-4f2a:"; empty in production
}

// Experiments returns the key of the index of all experiment ids.
func (k Keys) Experiments() string { return k.Namespace + "assign:experiments" }

// Layers returns the key of the experiment id -> layer hash.
func (k Keys) Layers() string { return k.Namespace + "assign:layers" }

// Streams returns the key of the set of every event stream.
func (k Keys) Streams() string { return k.Namespace + "assign:streams" }

// ChangeChannel returns the pub/sub channel the creation and update scripts
// publish an experiment's id on, once its configuration changed: the
// answer caches of every assignd listen (Store.Listen). Not a key.
func (k Keys) ChangeChannel() string { return k.Namespace + "assign:changed" }

// HeartbeatChannel returns the pub/sub channel one process (by its random id)
// sends its own heartbeats on, through every master (Store.Listen). Not a
// key.
func (k Keys) HeartbeatChannel(process string) string {
	return k.Namespace + "assign:heartbeat:" + process
}

// Prefix returns the key prefix of an experiment.
func (k Keys) Prefix(id, layer string) string {
	if layer != "" {
		return k.Namespace + "{layer:" + layer + "}:" + id
	}
	return k.Namespace + "{exp:" + id + "}"
}

// Layer returns the key of a layer's hash (its traffic split).
func (k Keys) Layer(layer string) string {
	return k.Namespace + "{layer:" + layer + "}"
}

// LayerOwner returns the key of one layer owner bucket.
func (k Keys) LayerOwner(layer string, bucket uint32) string {
	return k.Namespace + "{layer:" + layer + "}:owner:" + strconv.FormatUint(uint64(bucket), 10)
}

// ConsumerGroup is the stream consumer group the warehouse exporter reads
// with. It is created with each stream, from ID 0, so no event is missed even
// before the exporter first runs.
const ConsumerGroup = "warehouse"

// Fields of the configuration hash at <prefix>, of the layer hash at
// {layer:<layer>}, and of stream events: the names of the scripts' contract,
// defined once in package scripts (scripts/contract.go) and given to the Lua
// scripts from there.
const (
	FieldDefinition  = scripts.FieldDefinition  // JSON of the immutable definition: experiment_id, groups (names), eligibility, layer, salt, created_at
	FieldFingerprint = scripts.FieldFingerprint // fingerprint of def and t0 (see fingerprint); absent on experiments created before it existed
	FieldStatus      = scripts.FieldStatus      // running | paused | stopped
	FieldMax         = scripts.FieldMax         // maximum sample size
	FieldSampling    = scripts.FieldSampling    // sampling probability, exact decimal (shortest round-trip form)
	FieldProbs       = scripts.FieldProbs       // group probabilities as configured, comma separated, exact decimals
	FieldCumulative  = scripts.FieldCumulative  // cumulative group probabilities, comma separated, exact decimals, last is 1
	FieldWinner      = scripts.FieldWinner      // rolled-out group index, -1 for none
	FieldBuckets     = scripts.FieldBuckets     // member bucket count of the first generation (power of two)
	FieldGenerations = scripts.FieldGenerations // bucket counts of later generations, comma separated, ascending; absent when one
	FieldEpoch       = scripts.FieldEpoch       // creation time in unix seconds; member times are relative to it
	FieldEnrolled    = scripts.FieldEnrolled    // members so far
	FieldVersion     = scripts.FieldVersion     // configuration version
	FieldUpdatedAt   = scripts.FieldUpdatedAt   // last change, unix milliseconds
	FieldUpdatedBy   = scripts.FieldUpdatedBy   // who made the last change
	FieldGroupCount  = scripts.FieldGroupCount  // prefix of per-group member counters: c0, c1, ...
	FieldGroupName   = scripts.FieldGroupName   // prefix of group names: g0, g1, ... (read by the enrollment script)
	FieldStartAt     = scripts.FieldStartAt     // schedule start, unix seconds; "" or absent for none
	FieldEndAt       = scripts.FieldEndAt       // schedule end (exclusive), unix seconds; "" or absent for none

	// Only for an experiment in a layer.
	FieldLayerIndex   = scripts.FieldLayerIndex   // the experiment's index in its layer, its owner value
	FieldOwnerBuckets = scripts.FieldOwnerBuckets // the layer's owner bucket count, copied from the layer hash

	// The layer hash.
	LayerFieldSlot         = scripts.LayerFieldSlot         // prefix of slot owners: s0 .. s999
	LayerFieldRunning      = scripts.LayerFieldRunning      // layer indexes taking traffic, comma separated
	LayerFieldNext         = scripts.LayerFieldNext         // last layer index given out
	LayerFieldExperiment   = scripts.LayerFieldExperiment   // prefix of experiment ids by layer index: e1, e2, ...
	LayerFieldOwnerBuckets = scripts.LayerFieldOwnerBuckets // owner bucket count
)

// LayerSlots is how many slots a layer's traffic is split into: shares are
// multiples of 0.1%. The scripts get it as LAYER_SLOTS.
const LayerSlots = scripts.LayerSlots

// Stream events. Every entry has a "type" field; the other fields depend on it.
//
//	type=enroll  user=<user id as given>  group=<group name>  [override=1]  [platform=<web|ios|android|other>]  ts=<unix ms, Redis TIME>
//	             (override=1: a QA override's answer, not a member; once per override set)
//	type=config  experiment=<JSON of assign.Experiment, without Stats>  by=<admin name>  ts=<unix ms>
const (
	EventType       = scripts.EventType
	EventEnroll     = scripts.EventEnroll
	EventConfig     = scripts.EventConfig
	EventUser       = scripts.EventUser
	EventGroup      = scripts.EventGroup
	EventTime       = scripts.EventTime
	EventExperiment = scripts.EventExperiment
	EventBy         = scripts.EventBy
	EventOverride   = scripts.EventOverride
	EventPlatform   = scripts.EventPlatform
)

// ConfigKey returns the configuration hash key of an experiment.
func ConfigKey(prefix string) string { return prefix }

// MembersKey returns the key of one member bucket.
func MembersKey(prefix string, bucket uint32) string {
	return prefix + ":m:" + strconv.FormatUint(uint64(bucket), 10)
}

// GenerationMembersKey returns the key of one member bucket of a generation
// after the first, which has count buckets (generations have distinct,
// growing counts).
func GenerationMembersKey(prefix string, count, bucket uint32) string {
	return prefix + ":m" + strconv.FormatUint(uint64(count), 10) + ":" + strconv.FormatUint(uint64(bucket), 10)
}

// OverridesKey returns the key of an experiment's QA overrides hash.
func OverridesKey(prefix string) string { return prefix + ":ovr" }

// EventsKey returns the event stream key of an experiment.
func EventsKey(prefix string) string { return prefix + eventsSuffix }

// eventsSuffix ends every event stream key (EventsKey, ConfigKeyOfEvents).
const eventsSuffix = ":events"
