// Package scripts holds the Lua scripts the Redis store runs, embedded in the
// binary and exposed as go-redis Scripts (EVALSHA with a fallback to EVAL on
// NOSCRIPT), and their contract with Go (contract.go): the field names,
// KEYS and ARGV positions, reply codes, member encoding and limits both sides
// use, defined once in Go and prepended to every script as Lua constants.
// Each script documents its KEYS, ARGV and reply at its top by those names;
// the key layout they assume is documented in package redisstore (keys.go).
package scripts

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed enroll.lua
	enrollLua string
	//go:embed create.lua
	createLua string
	//go:embed update.lua
	updateLua string
	//go:embed layer.lua
	layerLua string
	//go:embed restore.lua
	restoreLua string
)

// The full sources: the generated constants, then the script (layer.lua,
// shared by create and update, between them: Redis scripts cannot share
// functions otherwise, and Redis 7 functions would need FUNCTION LOAD, which
// miniredis lacks).
var (
	enrollSource  = build("enroll", enrollLua)
	createSource  = build("create", layerLua, createLua)
	updateSource  = build("update", layerLua, updateLua)
	restoreSource = build("restore", restoreLua)
)

// Enroll decides and records one enrollment atomically: the hot path.
var Enroll = redis.NewScript(enrollSource)

// Create stores a new experiment's configuration and opens its event stream;
// in a layer it also re-splits the layer's traffic.
var Create = redis.NewScript(createSource)

// Update applies a validated configuration change with a version check; in a
// layer it also re-splits the layer's traffic when the experiment starts or
// stops taking it.
var Update = redis.NewScript(updateSource)

// Restore writes back a batch of members read from the warehouse after a
// loss of Redis, counting only those not already recorded.
var Restore = redis.NewScript(restoreSource)

// All lists every script, for loading them at start-up (readiness).
var All = []*redis.Script{Enroll, Create, Update, Restore}

// EnrollSource returns the full text of the enrollment script, constants
// included, for tools that call it without go-redis (redis-benchmark's
// EVALSHA ceiling: go run ./scripts/luasource enroll).
func EnrollSource() string { return enrollSource }

// Source returns the full text of the named script (enroll, create, update
// or restore), constants included; "" for another name.
func Source(name string) string {
	switch name {
	case "enroll":
		return enrollSource
	case "create":
		return createSource
	case "update":
		return updateSource
	case "restore":
		return restoreSource
	}
	return ""
}
