package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// TestSlot checks Slot against the server's own CLUSTER KEYSLOT (which a
// single Redis answers too, cluster mode or not) and the examples of the
// Redis Cluster specification.
func TestSlot(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: testenv.SharedCluster(t).Addrs()[0]})
	defer c.Close()
	ctx := testenv.Context(t)
	keys := []string{"", "123456789", "foo", "{user1000}.following", "{user1000}.followers",
		"foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}", "{exp:f380739f-62f3-4316-8acf-93ed5744cb9e}:events",
		"ns:{layer:checkout}:a:events", "assign:streams", "\xff\x00{", "{", "}{x}"}
	for _, k := range keys {
		want, err := c.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT %q: %v", k, err)
		}
		if got := redisstore.Slot(k); int64(got) != want {
			t.Errorf("Slot(%q)=%d, want %d", k, got, want)
		}
	}
	if got := redisstore.Slot("123456789"); got != 0x31C3%16384 {
		t.Errorf("Slot(123456789)=%d, want the spec's CRC16 0x31C3", got)
	}
}
