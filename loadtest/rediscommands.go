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

// RedisCommandCounter returns a reader of the total_commands_processed of
// the Redis rdb talks to (on a cluster client: whichever node answers, so
// use it with a single node).
func RedisCommandCounter(rdb redis.UniversalClient) func(context.Context) (int64, error) {
	return func(ctx context.Context) (int64, error) {
		info, err := rdb.Info(ctx, "stats").Result()
		if err != nil {
			return 0, fmt.Errorf("loadtest: INFO stats: %w", err)
		}
		return InfoField(info, "total_commands_processed")
	}
}
