package scripts

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/assign-dev/assign/assign"
)

// The contract between the Go store (package redisstore) and the Lua
// scripts. Every name, position, reply code and limit both sides use is
// defined here, once, in Go: Prelude renders them as Lua locals that
// scripts.go prepends to every script (local F_STATUS = 'status', ...), so
// the scripts never spell a field name, a reply code or a KEYS/ARGV position
// themselves (TestSources_UseTheContract checks it). Only the constants a
// script uses are rendered into it. redisstore builds KEYS
// and ARGV and decodes replies from the same constants, in one file
// (redisstore/contract.go).
//
// A change of any of these is a change of the scripts' contract: assignd
// processes of the older build must be stopped before those of the newer one
// start (README, Operations: Upgrades).

// Fields of the configuration hash at <prefix> (see redisstore/keys.go).
const (
	FieldDefinition  = "def"     // JSON of the immutable definition: experiment_id, groups (names), eligibility, layer, salt, created_at
	FieldFingerprint = "fp"      // fingerprint of the definition and t0 (hex), checked by every script that trusts a caller's cached definition; absent on experiments created before it existed
	FieldStatus      = "status"  // running | paused | stopped
	FieldMax         = "max"     // maximum sample size
	FieldSampling    = "p"       // sampling probability, exact decimal (shortest round-trip form)
	FieldProbs       = "probs"   // group probabilities as configured, comma separated, exact decimals
	FieldCumulative  = "cum"     // cumulative group probabilities, comma separated, exact decimals, last is 1
	FieldWinner      = "winner"  // rolled-out group index, NoWinner for none
	FieldBuckets     = "buckets" // member bucket count of the first generation (power of two)
	FieldGenerations = "gen"     // bucket counts of later generations, comma separated, ascending; absent when one
	FieldEpoch       = "t0"      // creation time in unix seconds; member times are relative to it
	FieldEnrolled    = "n"       // members so far
	FieldVersion     = "ver"     // configuration version
	FieldUpdatedAt   = "uat"     // last change, unix milliseconds
	FieldUpdatedBy   = "uby"     // who made the last change
	FieldGroupCount  = "c"       // prefix of per-group member counters: c0, c1, ...
	FieldGroupName   = "g"       // prefix of group names: g0, g1, ... (read by the enrollment script)
	FieldStartAt     = "sa"      // schedule: first second new members are taken, unix seconds; "" or absent for none
	FieldEndAt       = "ea"      // schedule: first second new members are no longer taken, unix seconds; "" or absent for none

	// Only for an experiment in a layer.
	FieldLayerIndex   = "li" // the experiment's index in its layer, its owner value
	FieldOwnerBuckets = "ob" // the layer's owner bucket count, copied from the layer hash
)

// Fields of the layer hash at {layer:<layer>}.
const (
	LayerFieldSlot         = "s"    // prefix of slot owners: s0 .. s999
	LayerFieldRunning      = "run"  // layer indexes taking traffic, comma separated
	LayerFieldNext         = "next" // last layer index given out
	LayerFieldExperiment   = "e"    // prefix of experiment ids by layer index: e1, e2, ...
	LayerFieldOwnerBuckets = "ob"   // owner bucket count
)

// The overrides hash at <prefix>:ovr holds an experiment's QA overrides:
// user id as given -> group index, plus OverrideExported once the enrollment
// script has sent the user's first override answer to the warehouse.

// Stream events. Every entry has a "type" field; the other fields depend on it.
//
//	type=enroll  user=<user id as given>  group=<group name>  [override=ArgTrue]  [platform=<web|ios|android|other>]  ts=<unix ms, Redis TIME>
//	             (override: the answer of a QA override, not a member; once per override set)
//	type=config  experiment=<JSON of assign.Experiment, without Stats>  by=<admin name>  ts=<unix ms>
const (
	EventType       = "type"
	EventEnroll     = "enroll"
	EventConfig     = "config"
	EventUser       = "user"
	EventGroup      = "group"
	EventTime       = "ts"
	EventExperiment = "experiment"
	EventBy         = "by"
	EventOverride   = "override"
	EventPlatform   = "platform" // absent when the client gave none
)

// Limits and encodings.
const (
	// LayerSlots is how many slots a layer's traffic is split into: shares
	// are multiples of 0.1%.
	LayerSlots = 1000

	// Growth of the member buckets, done by the enrollment script: once the
	// members outnumber GrowAt per bucket over all the generations, a
	// generation twice as large as all before opens, up to MaxGenerations
	// generations of at most MaxBuckets.
	GrowAt         = 80
	MaxGenerations = 8
	MaxBuckets     = 1 << 16

	// MemberGroups encodes a member value: (enrolled unix s - t0) *
	// MemberGroups + group index, a small integer a listpack stores
	// compactly.
	MemberGroups = 128

	// NoWinner is the winner field of an experiment not rolled out.
	NoWinner = -1

	// OverrideExported is added to an override's group index once its
	// answer was sent to the warehouse (see the overrides hash).
	OverrideExported = 1000
)

// Reply codes. The enrollment script answers ReplyNew+group for a new member,
// ReplyExisting+group for an existing one, ReplyRolledOut+group for the
// rolled-out winner, ReplyOverride+group for a QA override, or one of the
// negative codes.
const (
	ReplyNew       = 0
	ReplyExisting  = 100
	ReplyRolledOut = 200
	ReplyOverride  = 300
	ReplyBand      = 100 // width of each of the three bands: more than any group index

	ReplyNotFound    = -1 // no configuration (every script)
	ReplyNotRunning  = -2
	ReplyNotSampled  = -3
	ReplySampleFull  = -4
	ReplyNotEligible = -5
	ReplyStale       = -6 // the caller's definition (fingerprint or layout) is not Redis's: reload it and call again

	ReplyCreated = 1 // create.lua: created
	ReplyExists  = 0 // create.lua: the configuration exists already, another definition
	ReplySame    = 2 // create.lua: the configuration exists already with this very definition (a replayed call)
	ReplyApplied = 1 // update.lua: applied
	ReplyMoved   = 0 // update.lua: the version or the definition moved since the read: read again
)

// Every group index must fit a reply band and a member value; raising
// assign.MaxGroups past either fails to compile here (a negative array
// length), instead of silently breaking the decoding.
var (
	_ [ReplyBand - assign.MaxGroups]struct{}
	_ [MemberGroups - assign.MaxGroups]struct{}
	_ [ReplyRolledOut - ReplyExisting - ReplyBand]struct{}
	_ [ReplyOverride - ReplyRolledOut - ReplyBand]struct{}
	_ [OverrideExported - assign.MaxGroups]struct{}
)

// KEYS and ARGV positions (1-based, as Lua indexes them). The Lua names are
// K_<NAME> and A_<NAME>, rendered by Prelude for the script alone.
const (
	// enroll.lua
	EnrollKeyConfig    = 1 // configuration hash
	EnrollKeyBucket    = 2 // the user's member bucket in the newest generation
	EnrollKeyEvents    = 3 // event stream
	EnrollKeyOverrides = 4 // overrides hash
	EnrollKeyLayer     = 5 // layer hash (in a layer only)
	EnrollKeyOwners    = 6 // the user's layer owner bucket (in a layer only)
	// The member buckets of the earlier generations, newest first, follow
	// the fixed keys: from EnrollKeyOlder, or EnrollKeyOlderInLayer in a layer.
	EnrollKeyOlder        = 5
	EnrollKeyOlderInLayer = 7

	EnrollArgMember   = 1 // compact user id (member field, see redisstore.EncodeUserID)
	EnrollArgUserID   = 2 // user id as given (for the event)
	EnrollArgSample   = 3 // sample draw in [0, 1), exact decimal form
	EnrollArgGroup    = 4 // group draw in [0, 1), exact decimal form
	EnrollArgEligible = 5 // ArgTrue when the user passed the eligibility rules (checked in Go), else ArgFalse
	EnrollArgFP       = 6 // fingerprint of the caller's definition (FieldFingerprint as read, "" when absent)
	EnrollArgLayout   = 7 // the member bucket layout the keys were computed from: buckets[,gen]
	EnrollArgPlatform = 8 // the client's platform for the event, "" for none
	EnrollArgSlot     = 9 // the user's layer slot, 0..LayerSlots-1 (in a layer only)
	EnrollArgs        = 8 // ARGV count outside a layer
	EnrollArgsInLayer = 9

	// create.lua
	CreateKeyConfig    = 1
	CreateKeyEvents    = 2
	CreateKeyOverrides = 3
	CreateKeyLayer     = 4 // in a layer only

	CreateArgConsumerGroup = 1 // stream consumer group of the warehouse exporter
	CreateArgBy            = 2 // who created it
	CreateArgEvent         = 3 // JSON of the experiment, for the config event
	CreateArgID            = 4 // experiment id (recorded in the layer hash)
	CreateArgOwnerBuckets  = 5 // owner bucket count, kept only by the layer's first experiment
	CreateArgFP            = 6 // the fingerprint among the fields (a replay finds it)
	CreateArgOverrides     = 7 // how many of the last arguments are overrides: user id, group index, ...
	CreateArgChannel       = 8 // the namespace's change channel: the experiment id is published there once created
	CreateArgFields        = 9 // field, value, ... of the configuration hash, then the overrides

	// update.lua
	UpdateKeyConfig    = 1
	UpdateKeyEvents    = 2
	UpdateKeyOverrides = 3
	UpdateKeyLayer     = 4 // in a layer only

	UpdateArgVersion   = 1 // the version the change was computed from
	UpdateArgFP        = 2 // fingerprint of the definition it was computed from
	UpdateArgBy        = 3 // who made the change
	UpdateArgEvent     = 4 // JSON of the new experiment, for the config event
	UpdateArgOverrides = 5 // how many of the last arguments are override changes: user id, group index or "" to remove, ...
	UpdateArgChannel   = 6 // the namespace's change channel: the experiment id is published there once applied
	UpdateArgID        = 7 // experiment id, the message published
	UpdateArgFields    = 8 // field, value, ... to set (including the new version), then the override changes

	// restore.lua
	RestoreKeyConfig  = 1
	RestoreKeyBuckets = 2 // the member buckets the batch touches, to the end

	RestoreArgFP          = 1 // fingerprint of the caller's definition
	RestoreArgLayout      = 2 // the member bucket layout the keys were computed from
	RestoreArgGenerations = 3 // G, the number of generations in it
	RestoreArgMembers     = 4 // G + RestoreMemberArgs per member, to the end: see restore.lua
	RestoreMemberArgs     = 3 // after the G bucket indexes: member field, member value, group index
)

// Boolean arguments.
const (
	ArgTrue  = "1"
	ArgFalse = "0"
)

// luaConst is one constant of the prelude.
type luaConst struct {
	name  string
	value any // string or int
}

// common are the constants every script gets.
var common = []luaConst{
	{"F_DEF", FieldDefinition}, {"F_FP", FieldFingerprint}, {"F_STATUS", FieldStatus}, {"F_MAX", FieldMax},
	{"F_SAMPLING", FieldSampling}, {"F_PROBS", FieldProbs}, {"F_CUM", FieldCumulative}, {"F_WINNER", FieldWinner},
	{"F_BUCKETS", FieldBuckets}, {"F_GEN", FieldGenerations}, {"F_T0", FieldEpoch}, {"F_N", FieldEnrolled},
	{"F_VER", FieldVersion}, {"F_UAT", FieldUpdatedAt}, {"F_UBY", FieldUpdatedBy}, {"F_COUNT", FieldGroupCount},
	{"F_GROUP_NAME", FieldGroupName}, {"F_LAYER_INDEX", FieldLayerIndex}, {"F_OWNER_BUCKETS", FieldOwnerBuckets},
	{"F_START_AT", FieldStartAt}, {"F_END_AT", FieldEndAt},

	{"L_SLOT", LayerFieldSlot}, {"L_RUN", LayerFieldRunning}, {"L_NEXT", LayerFieldNext},
	{"L_EXPERIMENT", LayerFieldExperiment}, {"L_OWNER_BUCKETS", LayerFieldOwnerBuckets},

	{"E_TYPE", EventType}, {"E_ENROLL", EventEnroll}, {"E_CONFIG", EventConfig}, {"E_USER", EventUser},
	{"E_GROUP", EventGroup}, {"E_TS", EventTime}, {"E_EXPERIMENT", EventExperiment}, {"E_BY", EventBy},
	{"E_OVERRIDE", EventOverride}, {"E_PLATFORM", EventPlatform}, {"OVERRIDE_EXPORTED", OverrideExported},

	{"STATUS_RUNNING", string(assign.StatusRunning)},
	{"LAYER_SLOTS", LayerSlots}, {"GROW_AT", GrowAt}, {"MAX_GENERATIONS", MaxGenerations},
	{"MAX_BUCKETS", MaxBuckets}, {"MEMBER_GROUPS", MemberGroups}, {"NO_WINNER", NoWinner},
	{"ARG_TRUE", ArgTrue},

	{"R_NEW", ReplyNew}, {"R_EXISTING", ReplyExisting}, {"R_ROLLED_OUT", ReplyRolledOut}, {"R_OVERRIDE", ReplyOverride},
	{"R_NOT_FOUND", ReplyNotFound}, {"R_NOT_RUNNING", ReplyNotRunning}, {"R_NOT_SAMPLED", ReplyNotSampled},
	{"R_SAMPLE_FULL", ReplySampleFull}, {"R_NOT_ELIGIBLE", ReplyNotEligible}, {"R_STALE", ReplyStale},
	{"R_CREATED", ReplyCreated}, {"R_EXISTS", ReplyExists}, {"R_SAME", ReplySame},
	{"R_APPLIED", ReplyApplied}, {"R_MOVED", ReplyMoved},
}

// enrollFields are the fields of the configuration hash the enrollment
// script reads on a miss, in the order of its HMGET: the script names them
// {{ENROLL_FIELDS}} (and {{ENROLL_FIELDS_IN_LAYER}}, with the layer index
// last), which build replaces by the F_ names in this order, and reads the
// reply by the indexes C_<NAME>, rendered from the same list. No table is
// built per call.
var enrollFields = []struct{ index, field string }{
	{"C_STATUS", "F_STATUS"}, {"C_MAX", "F_MAX"}, {"C_SAMPLING", "F_SAMPLING"}, {"C_CUM", "F_CUM"},
	{"C_N", "F_N"}, {"C_WINNER", "F_WINNER"}, {"C_T0", "F_T0"}, {"C_BUCKETS", "F_BUCKETS"},
	{"C_GEN", "F_GEN"}, {"C_FP", "F_FP"}, {"C_START_AT", "F_START_AT"}, {"C_END_AT", "F_END_AT"},
	{"C_LAYER_INDEX", "F_LAYER_INDEX"}, // last: read in a layer only
}

// positions are each script's own KEYS and ARGV positions.
var positions = map[string][]luaConst{
	"enroll": {
		{"K_CONFIG", EnrollKeyConfig}, {"K_BUCKET", EnrollKeyBucket}, {"K_EVENTS", EnrollKeyEvents},
		{"K_OVERRIDES", EnrollKeyOverrides}, {"K_LAYER", EnrollKeyLayer}, {"K_OWNERS", EnrollKeyOwners},
		{"K_OLDER", EnrollKeyOlder}, {"K_OLDER_IN_LAYER", EnrollKeyOlderInLayer},
		{"A_MEMBER", EnrollArgMember}, {"A_USER_ID", EnrollArgUserID}, {"A_SAMPLE", EnrollArgSample},
		{"A_GROUP", EnrollArgGroup}, {"A_ELIGIBLE", EnrollArgEligible}, {"A_FP", EnrollArgFP},
		{"A_LAYOUT", EnrollArgLayout}, {"A_PLATFORM", EnrollArgPlatform}, {"A_SLOT", EnrollArgSlot},
	},
	"create": {
		{"K_CONFIG", CreateKeyConfig}, {"K_EVENTS", CreateKeyEvents}, {"K_OVERRIDES", CreateKeyOverrides},
		{"K_LAYER", CreateKeyLayer},
		{"A_CONSUMER_GROUP", CreateArgConsumerGroup}, {"A_BY", CreateArgBy}, {"A_EVENT", CreateArgEvent},
		{"A_ID", CreateArgID}, {"A_OWNER_BUCKETS", CreateArgOwnerBuckets}, {"A_FP", CreateArgFP},
		{"A_OVERRIDES", CreateArgOverrides}, {"A_CHANNEL", CreateArgChannel}, {"A_FIELDS", CreateArgFields},
	},
	"update": {
		{"K_CONFIG", UpdateKeyConfig}, {"K_EVENTS", UpdateKeyEvents}, {"K_OVERRIDES", UpdateKeyOverrides},
		{"K_LAYER", UpdateKeyLayer},
		{"A_VERSION", UpdateArgVersion}, {"A_FP", UpdateArgFP}, {"A_BY", UpdateArgBy},
		{"A_EVENT", UpdateArgEvent}, {"A_OVERRIDES", UpdateArgOverrides}, {"A_CHANNEL", UpdateArgChannel},
		{"A_ID", UpdateArgID}, {"A_FIELDS", UpdateArgFields},
	},
	"restore": {
		{"K_CONFIG", RestoreKeyConfig}, {"K_BUCKETS", RestoreKeyBuckets},
		{"A_FP", RestoreArgFP}, {"A_LAYOUT", RestoreArgLayout}, {"A_GENERATIONS", RestoreArgGenerations},
		{"A_MEMBERS", RestoreArgMembers}, {"MEMBER_ARGS", RestoreMemberArgs},
	},
}

// constants returns every constant the named script (enroll, create,
// update or restore) may use: the common ones, its KEYS and ARGV positions,
// and for enroll the indexes of its HMGET reply.
func constants(script string) []luaConst {
	pos, ok := positions[script]
	if !ok {
		panic("scripts: no script " + script)
	}
	cs := append(append([]luaConst(nil), common...), pos...)
	if script == "enroll" {
		for i, f := range enrollFields {
			cs = append(cs, luaConst{f.index, i + 1})
		}
	}
	return cs
}

// expand replaces the field-list placeholders of a script's text.
func expand(body string) string {
	names := make([]string, len(enrollFields))
	for i, f := range enrollFields {
		names[i] = f.field
	}
	body = strings.ReplaceAll(body, "{{ENROLL_FIELDS_IN_LAYER}}", strings.Join(names, ", "))
	return strings.ReplaceAll(body, "{{ENROLL_FIELDS}}", strings.Join(names[:len(names)-1], ", "))
}

var (
	luaIdent      = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	luaLineRemark = regexp.MustCompile(`(?m)--.*$`) // the scripts hold no "--" inside strings
)

// Prelude renders, as Lua locals, the constants of the named script that
// body (its expanded text) uses: only those, as each costs the script a
// little on every call.
func Prelude(script, body string) string {
	used := map[string]bool{}
	for _, id := range luaIdent.FindAllString(luaLineRemark.ReplaceAllString(body, ""), -1) {
		used[id] = true
	}
	var b strings.Builder
	b.WriteString("-- Generated from scripts/contract.go: the constants of the contract with redisstore.\n")
	for _, c := range constants(script) {
		if used[c.name] {
			fmt.Fprintf(&b, "local %s = %s\n", c.name, luaValue(c.value))
		}
	}
	b.WriteString("-- End of the generated constants.\n")
	return b.String()
}

// build returns the full source of the named script from its parts.
func build(script string, parts ...string) string {
	body := expand(strings.Join(parts, ""))
	return Prelude(script, body) + body
}

// luaValue renders a constant as a Lua literal. Strings are plain ASCII
// names: anything needing an escape is refused, at start-up.
func luaValue(v any) string {
	switch v := v.(type) {
	case int:
		return fmt.Sprint(v)
	case string:
		for _, r := range v {
			if r < ' ' || r > '~' || r == '\'' || r == '\\' {
				panic(fmt.Sprintf("scripts: constant %q is not a plain name", v))
			}
		}
		return "'" + v + "'"
	}
	panic(fmt.Sprintf("scripts: constant of type %T", v))
}
