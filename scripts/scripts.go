// Package scripts holds the Lua scripts the Redis store runs, embedded in the
// binary and exposed as go-redis Scripts (EVALSHA with a fallback to EVAL on
// NOSCRIPT). Each script documents its KEYS, ARGV and reply at its top; the
// key layout they assume is documented in package redisstore (keys.go).
package scripts

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed enroll.lua
	enrollSource string
	//go:embed create.lua
	createSource string
	//go:embed update.lua
	updateSource string
	//go:embed layer.lua
	layerSource string
	//go:embed restore.lua
	restoreSource string
)

// Enroll decides and records one enrollment atomically: the hot path.
var Enroll = redis.NewScript(enrollSource)

// Create stores a new experiment's configuration and opens its event stream;
// in a layer it also re-splits the layer's traffic (layer.lua is prepended:
// Redis scripts cannot share functions otherwise, and Redis 7 functions
// would need FUNCTION LOAD, which miniredis lacks).
var Create = redis.NewScript(layerSource + createSource)

// Update applies a validated configuration change with a version check; in a
// layer it also re-splits the layer's traffic when the experiment starts or
// stops taking it.
var Update = redis.NewScript(layerSource + updateSource)

// Restore writes back a batch of members read from the warehouse after a
// loss of Redis, counting only those not already recorded.
var Restore = redis.NewScript(restoreSource)

// All lists every script, for loading them at start-up (readiness).
var All = []*redis.Script{Enroll, Create, Update, Restore}

// EnrollSource returns the text of the enrollment script, for tools that call
// it without go-redis (redis-benchmark's EVALSHA ceiling).
func EnrollSource() string { return enrollSource }
