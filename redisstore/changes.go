package redisstore

import (
	"context"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Changes returns the key of the sorted set of recently changed event
// streams: member the stream key, score the unix milliseconds of the change.
// The exporter reads no stream of an experiment that takes no enrollments
// (stopped, paused, rolled out) until the stream shows up here (or its
// periodic sweep), so an idle experiment costs it nothing per poll.
func (k Keys) Changes() string { return k.Namespace + "assign:changes" }

// ChangesKeep is how long an entry of the changes set is kept; older ones
// are trimmed by the exporter.
const ChangesKeep = time.Hour

// noteChange records that the stream of the experiment at prefix received a
// configuration event. Best effort, after the event is written: a process
// dying in between leaves the event to the exporter's sweep.
func (s *Store) noteChange(ctx context.Context, prefix string) {
	// The wall clock, not Now: the exporter compares it with its own.
	_ = s.client.ZAdd(ctx, s.keys.Changes(), redis.Z{Score: float64(time.Now().UnixMilli()), Member: EventsKey(prefix)}).Err()
}

// ConfigKeyOfEvents returns the configuration hash key of the experiment
// whose event stream is events, or "" when events is not a stream key.
func ConfigKeyOfEvents(events string) string {
	prefix, ok := strings.CutSuffix(events, eventsSuffix)
	if !ok {
		return ""
	}
	return ConfigKey(prefix)
}
