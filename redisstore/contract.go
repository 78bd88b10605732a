package redisstore

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"unsafe"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/scripts"
)

// This file is the Go side of the scripts' contract (scripts/contract.go
// names every field, position and reply code): the only place that builds
// the scripts' KEYS and ARGV and reads their replies. Each script has a
// small typed request (enrollCall, createCall, updateCall, restoreCall)
// whose keys and args methods put every value at its named position, and
// its replies are decoded here by name.

// Script arguments that never change, converted to interfaces once.
var (
	argTrue  any = scripts.ArgTrue
	argFalse any = scripts.ArgFalse

	platformArgs = map[string]any{"": "", assign.PlatformWeb: assign.PlatformWeb, assign.PlatformIOS: assign.PlatformIOS,
		assign.PlatformAndroid: assign.PlatformAndroid, assign.PlatformOther: assign.PlatformOther}
)

// platformArg returns the platform as a script argument without converting
// it on the hot path; one that is not a platform (refused before, by
// ValidateClaims and Enroll) is recorded as none.
func platformArg(p string) any {
	if a, ok := platformArgs[p]; ok {
		return a
	}
	return platformArgs[""]
}

// fingerprint identifies an experiment's definition in Redis: the stored
// definition JSON (salt, groups, eligibility rules, layer, creation time)
// and t0, hashed. It is written with the definition at creation (a restore
// rebuilding the same definition and t0 gets the same one), and every script
// that trusts a caller's cached definition compares it: an experiment lost
// and created again under the same id has another salt, so another
// fingerprint, and a process still holding the old definition is refused
// instead of drawing with the old salt or naming groups from the old list.
func fingerprint(def string, epoch int64) string {
	h := sha256.New()
	h.Write([]byte(def))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, epoch, 10))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// memberValue encodes a member: seconds since t0 and the group index.
func memberValue(rel int64, group int) int64 {
	return rel*scripts.MemberGroups + int64(group)
}

// splitMemberValue decodes a member value; ok is false for a malformed one.
func splitMemberValue(v int64) (rel int64, group int, ok bool) {
	if v < 0 {
		return 0, 0, false
	}
	return v / scripts.MemberGroups, int(v % scripts.MemberGroups), true
}

// enrollCall is one call of the enrollment script (scripts/enroll.lua).
type enrollCall struct {
	d        *definition
	draw     assign.Draw
	userID   string
	eligible bool
	platform any    // the platform argument (platformArg)
	owners   string // the user's layer owner bucket key (in a layer only)
	slot     int    // the user's layer slot (in a layer only)
}

// eligible checks the claims d's rules read and returns whether the user
// passes them (Go decides eligibility; the script is told).
func (d *definition) eligible(req assign.EnrollRequest) (bool, error) {
	if err := d.rules.ValidateClaims(req.Claims); err != nil {
		return false, err
	}
	return d.rules.EligibleOn(req.Claims, req.EffectivePlatform()), nil
}

// newEnrollCall prepares the call for one user and definition, for a user
// of the given eligibility (definition.eligible).
func (s *Store) newEnrollCall(d *definition, req assign.EnrollRequest, eligible bool) enrollCall {
	c := enrollCall{d: d, draw: assign.NewDraw(d.Salt, d.ID, req.UserID), userID: req.UserID,
		eligible: eligible, platform: platformArg(req.EffectivePlatform())}
	if d.layer != "" {
		var owner uint32
		c.slot, owner = layerPosition(d.Layer, req.UserID, d.ownerBuckets)
		c.owners = s.keys.LayerOwner(d.Layer, owner)
	}
	return c
}

// evalshaCall is a whole EVALSHA command of the enrollment script, for the
// pipelined hot path, in one allocation: its per-call strings live in it and
// go to go-redis as *string (which it writes as the string), so that no
// argument is boxed on its own; the definition's constant keys and
// arguments were boxed once (definition).
type evalshaCall struct {
	argv                                 [evalshaMaxArgs]any
	bucket, owners, member, userID, slot string
	sample, group                        string
	older                                [MaxGenerations - 1]string
	buf                                  [2 * floatArgLen]byte // sample and group draws, formatted
}

const (
	floatArgLen    = 24 // the longest formatFloat of a draw in [0, 1)
	evalshaMaxArgs = 3 + scripts.EnrollKeyOlderInLayer - 1 + MaxGenerations - 1 + scripts.EnrollArgsInLayer
)

// The command and the script's SHA, boxed once.
var evalshaName, enrollSHA any = "evalsha", scripts.Enroll.Hash()

// evalsha returns the arguments of the EVALSHA command: "evalsha", the
// script's SHA, the number of keys, KEYS (the fixed keys at their
// positions, then the user's buckets of the earlier generations, newest
// first), then ARGV.
func (c *enrollCall) evalsha() []any {
	d := c.d
	e := &evalshaCall{}
	fixed := scripts.EnrollKeyOlder - 1
	n := scripts.EnrollArgs
	if d.layer != "" {
		fixed, n = scripts.EnrollKeyOlderInLayer-1, scripts.EnrollArgsInLayer
	}
	nk := fixed + len(d.buckets) - 1
	a := e.argv[:3+nk+n]
	a[0], a[1], a[2] = evalshaName, enrollSHA, nk // a small int is boxed without an allocation
	k, v := a[3:3+nk], a[3+nk:]
	e.bucket = d.bucketKey(c.draw.Bucket)
	k[scripts.EnrollKeyConfig-1] = d.configArg
	k[scripts.EnrollKeyBucket-1] = &e.bucket
	k[scripts.EnrollKeyEvents-1] = d.eventsArg
	k[scripts.EnrollKeyOverrides-1] = d.ovrArg
	if d.layer != "" {
		e.owners = c.owners
		k[scripts.EnrollKeyLayer-1] = d.layerArg
		k[scripts.EnrollKeyOwners-1] = &e.owners
	}
	for g, i := len(d.buckets)-2, 0; g >= 0; g, i = g-1, i+1 {
		e.older[i] = d.generationKey(g, c.draw.Bucket)
		k[fixed+i] = &e.older[i]
	}
	e.member, e.userID = EncodeUserID(c.userID), c.userID
	b := strconv.AppendFloat(e.buf[:0], c.draw.Sample, 'f', -1, 64)
	ns := len(b)
	b = strconv.AppendFloat(b, c.draw.Group, 'f', -1, 64)
	if len(b) <= len(e.buf) { // always, for draws in [0, 1): no allocation
		e.sample, e.group = unsafe.String(&e.buf[0], ns), unsafe.String(&e.buf[ns], len(b)-ns)
	} else {
		e.sample, e.group = string(b[:ns]), string(b[ns:])
	}
	v[scripts.EnrollArgMember-1] = &e.member
	v[scripts.EnrollArgUserID-1] = &e.userID
	v[scripts.EnrollArgSample-1] = &e.sample
	v[scripts.EnrollArgGroup-1] = &e.group
	v[scripts.EnrollArgEligible-1] = argFalse
	if c.eligible {
		v[scripts.EnrollArgEligible-1] = argTrue
	}
	v[scripts.EnrollArgFP-1] = d.fpArg
	v[scripts.EnrollArgLayout-1] = d.layoutArg
	v[scripts.EnrollArgPlatform-1] = c.platform
	if d.layer != "" {
		e.slot = strconv.Itoa(c.slot)
		v[scripts.EnrollArgSlot-1] = &e.slot
	}
	return a
}

// keysAndArgs returns the KEYS and ARGV of evalsha, for the paths that call
// the script through go-redis's Script (a Scripter, a WAIT pipeline, the
// NOSCRIPT fallback), which take the keys as strings.
func (c *enrollCall) keysAndArgs() ([]string, []any) {
	a := c.evalsha()
	nk := a[2].(int)
	keys := make([]string, nk)
	for i, k := range a[3 : 3+nk] {
		if p, ok := k.(*string); ok {
			keys[i] = *p
		} else {
			keys[i] = k.(string)
		}
	}
	return keys, a[3+nk:]
}

// decodeEnroll turns an enrollment script reply into a decision. A stale
// reply never reaches it (withDefinition retries those).
func (d *definition) decodeEnroll(code int64) (*assign.Enrollment, error) {
	e := &assign.Enrollment{ExperimentID: d.ID}
	band := func(base int64) bool { return code >= base && code < base+scripts.ReplyBand }
	group := func(base int64) error {
		e.Group = d.group(int(code - base))
		if e.Group == "" {
			return assign.Errorf(assign.EINTERNAL, "experiment %q: enrollment script chose unknown group %d", d.ID, code-base)
		}
		e.Enrolled = true
		return nil
	}
	switch {
	case band(scripts.ReplyNew):
		e.New = true
		if err := group(scripts.ReplyNew); err != nil {
			return nil, err
		}
	case band(scripts.ReplyExisting):
		if err := group(scripts.ReplyExisting); err != nil {
			return nil, err
		}
	case band(scripts.ReplyRolledOut):
		e.RolledOut = true
		if err := group(scripts.ReplyRolledOut); err != nil {
			return nil, err
		}
	case band(scripts.ReplyOverride):
		e.Override = true
		if err := group(scripts.ReplyOverride); err != nil {
			return nil, err
		}
	case code == scripts.ReplyNotRunning:
		e.Reason = assign.ReasonNotRunning
	case code == scripts.ReplyNotSampled:
		e.Reason = assign.ReasonNotSampled
	case code == scripts.ReplySampleFull:
		e.Reason = assign.ReasonSampleFull
	case code == scripts.ReplyNotEligible:
		e.Reason = assign.ReasonNotEligible
	case code == scripts.ReplyNotFound:
		return nil, notFound(d.ID)
	default:
		return nil, assign.Errorf(assign.EINTERNAL, "experiment %q: unknown enrollment script reply %d", d.ID, code)
	}
	return e, nil
}

// createCall is one call of the creation script (scripts/create.lua).
type createCall struct {
	prefix       string
	layer        string // layer hash key, "" outside a layer
	by, event    string
	id           string
	channel      string // Keys.ChangeChannel
	ownerBuckets uint32
	fp           string // the fingerprint among the fields
	fields       []any  // field, value, ... of the configuration hash (configFields)
	overrides    []any  // user id, group index, ... (overrideArgs)
}

func (c *createCall) keys() []string {
	keys := []string{scripts.CreateKeyConfig - 1: ConfigKey(c.prefix), scripts.CreateKeyEvents - 1: EventsKey(c.prefix),
		scripts.CreateKeyOverrides - 1: OverridesKey(c.prefix)}
	if c.layer != "" {
		keys = append(keys[:scripts.CreateKeyLayer-1], c.layer)
	}
	return keys
}

func (c *createCall) args() []any {
	args := make([]any, scripts.CreateArgFields-1, scripts.CreateArgFields-1+len(c.fields))
	args[scripts.CreateArgConsumerGroup-1] = ConsumerGroup
	args[scripts.CreateArgBy-1] = c.by
	args[scripts.CreateArgEvent-1] = c.event
	args[scripts.CreateArgID-1] = c.id
	args[scripts.CreateArgOwnerBuckets-1] = strconv.FormatUint(uint64(c.ownerBuckets), 10)
	args[scripts.CreateArgFP-1] = c.fp
	args[scripts.CreateArgOverrides-1] = strconv.Itoa(len(c.overrides))
	args[scripts.CreateArgChannel-1] = c.channel
	return append(append(args, c.fields...), c.overrides...)
}

// createOutcome is what the creation script answered.
type createOutcome int

const (
	createCreated createOutcome = iota
	createExists                // another configuration holds the id
	createSame                  // the configuration exists with this very definition: a replayed call (go-redis retries a call whose reply timed out), or a restore of what is there
)

func decodeCreate(code int64) (createOutcome, error) {
	switch code {
	case scripts.ReplyCreated:
		return createCreated, nil
	case scripts.ReplyExists:
		return createExists, nil
	case scripts.ReplySame:
		return createSame, nil
	}
	return 0, assign.Errorf(assign.EINTERNAL, "unknown creation script reply %d", code)
}

// updateCall is one call of the update script (scripts/update.lua).
type updateCall struct {
	prefix    string
	layer     string // layer hash key, "" outside a layer
	version   int64  // the version the change was computed from
	fp        string // the fingerprint of the definition it was computed from
	id        string
	channel   string // Keys.ChangeChannel
	by, event string
	fields    []any // field, value, ... to set (mutableFields)
	overrides []any // user id, group index or "" to remove, ... (overrideChanges)
}

func (c *updateCall) keys() []string {
	keys := []string{scripts.UpdateKeyConfig - 1: ConfigKey(c.prefix), scripts.UpdateKeyEvents - 1: EventsKey(c.prefix),
		scripts.UpdateKeyOverrides - 1: OverridesKey(c.prefix)}
	if c.layer != "" {
		keys = append(keys[:scripts.UpdateKeyLayer-1], c.layer)
	}
	return keys
}

func (c *updateCall) args() []any {
	args := make([]any, scripts.UpdateArgFields-1, scripts.UpdateArgFields-1+len(c.fields))
	args[scripts.UpdateArgVersion-1] = strconv.FormatInt(c.version, 10)
	args[scripts.UpdateArgFP-1] = c.fp
	args[scripts.UpdateArgBy-1] = c.by
	args[scripts.UpdateArgEvent-1] = c.event
	args[scripts.UpdateArgOverrides-1] = strconv.Itoa(len(c.overrides))
	args[scripts.UpdateArgChannel-1] = c.channel
	args[scripts.UpdateArgID-1] = c.id
	return append(append(args, c.fields...), c.overrides...)
}

// updateOutcome is what the update script answered.
type updateOutcome int

const (
	updateApplied updateOutcome = iota
	updateMoved                 // the version or the definition moved: read again
	updateNotFound
)

func decodeUpdate(code int64) (updateOutcome, error) {
	switch code {
	case scripts.ReplyApplied:
		return updateApplied, nil
	case scripts.ReplyMoved:
		return updateMoved, nil
	case scripts.ReplyNotFound:
		return updateNotFound, nil
	}
	return 0, assign.Errorf(assign.EINTERNAL, "unknown update script reply %d", code)
}

// restoreCall is one call of the restore script (scripts/restore.lua): a
// batch of members for definition d.
type restoreCall struct {
	d       *definition
	keyList []string
	index   map[string]int // bucket key -> its position in KEYS (1-based, as Lua counts)
	members []any          // per member: its bucket positions, newest generation first; field; value; group
}

func newRestoreCall(d *definition, n int) *restoreCall {
	c := &restoreCall{d: d, index: map[string]int{}, members: make([]any, 0, (len(d.buckets)+scripts.RestoreMemberArgs)*n)}
	c.keyList = make([]string, scripts.RestoreKeyBuckets-1)
	c.keyList[scripts.RestoreKeyConfig-1] = d.config
	return c
}

// add appends one member: its user id, enrollment time and group index.
func (c *restoreCall) add(userID string, rel int64, group int) {
	d := c.d
	draw := assign.NewDraw(d.Salt, d.ID, userID).Bucket
	add := func(key string) {
		k, ok := c.index[key]
		if !ok {
			c.keyList = append(c.keyList, key)
			k = len(c.keyList)
			c.index[key] = k
		}
		c.members = append(c.members, k)
	}
	add(d.bucketKey(draw))
	for g := len(d.buckets) - 2; g >= 0; g-- {
		add(d.generationKey(g, draw))
	}
	c.members = append(c.members, EncodeUserID(userID), strconv.FormatInt(memberValue(rel, group), 10), group)
}

func (c *restoreCall) keys() []string { return c.keyList }

func (c *restoreCall) args() []any {
	args := make([]any, scripts.RestoreArgMembers-1, scripts.RestoreArgMembers-1+len(c.members))
	args[scripts.RestoreArgFP-1] = c.d.fp
	args[scripts.RestoreArgLayout-1] = c.d.layout
	args[scripts.RestoreArgGenerations-1] = len(c.d.buckets)
	return append(args, c.members...)
}

// overrideArgs returns the overrides of a new experiment as script
// arguments: user id, group index, ...
func overrideArgs(e *assign.Experiment) []any {
	args := make([]any, 0, 2*len(e.Overrides))
	for user, group := range e.Overrides {
		args = append(args, user, strconv.Itoa(e.GroupIndex(group)))
	}
	return args
}

// overrideChanges returns an update's override changes as script
// arguments: user id, group index or "" to remove, ... Each user named is
// written again, so a re-set override is exported again on its next answer.
func overrideChanges(next *assign.Experiment, upd assign.ExperimentUpdate) []any {
	args := make([]any, 0, 2*len(upd.Overrides))
	for user, group := range upd.Overrides {
		v := ""
		if group != nil {
			v = strconv.Itoa(next.GroupIndex(*group))
		}
		args = append(args, user, v)
	}
	return args
}

// parseOverrides reads an overrides hash: user id -> group name; nil when
// empty.
func (d *definition) parseOverrides(m map[string]string) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(m))
	for user, v := range m {
		n, err := strconv.Atoi(v)
		g := d.group(n % scripts.OverrideExported)
		if err != nil || n < 0 || g == "" {
			return nil, assign.Errorf(assign.EINTERNAL, "experiment %q: bad override of %q: %q", d.ID, user, v)
		}
		out[user] = g
	}
	return out, nil
}
