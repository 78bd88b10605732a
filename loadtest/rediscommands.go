package loadtest

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// RedisCommands is how many commands Redis processed during a run: its
// INFO stats total_commands_processed read right before the run's first
// request and right after its last answer (the warm-up and the verification
// left out). Every client's commands count, the server's heartbeats and
// pub/sub included.
type RedisCommands struct {
	Before    int64   `json:"before"`
	After     int64   `json:"after"`
	Wall      float64 `json:"wall_s"`
	PerSecond float64 `json:"per_second"`

	// ScriptCalls is how many scripts clients called (EVALSHA and EVAL, INFO
	// commandstats) during the run: total_commands_processed also counts
	// the commands each script runs inside Redis, which make a new user's
	// call several times as costly as a returning member's.
	ScriptCalls          int64   `json:"script_calls"`
	ScriptCallsPerSecond float64 `json:"script_calls_per_second"`
}

// RedisCounts are the counters RedisCommands is computed from.
type RedisCounts struct {
	Commands    int64 // total_commands_processed
	ScriptCalls int64 // calls of EVALSHA and EVAL
}

// InfoField returns the integer value of field in the text of Redis's INFO
// ("field:value" lines).
func InfoField(info, field string) (int64, error) {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("loadtest: no %s in INFO", field)
}

// CommandCalls returns the calls of command (lowercase) in the text of
// Redis's INFO commandstats (cmdstat_<command>:calls=N,...); 0 when it was
// never called.
func CommandCalls(info, command string) (int64, error) {
	for _, line := range strings.Split(info, "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+command+":calls=")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(v, ",")
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, nil
}

// RedisCommandCounter returns a reader of the counters of the Redis rdb
// talks to (on a cluster client: whichever node answers, so use it with a
// single node).
func RedisCommandCounter(rdb redis.UniversalClient) func(context.Context) (RedisCounts, error) {
	return func(ctx context.Context) (RedisCounts, error) {
		info, err := rdb.Info(ctx, "stats", "commandstats").Result()
		if err != nil {
			return RedisCounts{}, fmt.Errorf("loadtest: INFO stats commandstats: %w", err)
		}
		var c RedisCounts
		if c.Commands, err = InfoField(info, "total_commands_processed"); err != nil {
			return RedisCounts{}, err
		}
		for _, cmd := range []string{"evalsha", "eval"} {
			n, err := CommandCalls(info, cmd)
			if err != nil {
				return RedisCounts{}, err
			}
			c.ScriptCalls += n
		}
		return c, nil
	}
}
