package redisstore_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/assign-dev/assign/redisstore"
)

func TestEncodeUserID(t *testing.T) {
	t.Run("RoundTrip", func(t *testing.T) {
		ids := []string{
			"f380739f-62f3-4316-8acf-93ed5744cb9e",
			"F380739F-62F3-4316-8ACF-93ED5744CB9E", // uppercase stays a string
			"f380739f-62f3-4316-8acf-93ed5744cb9",  // 35 characters
			"f380739f-62f3-4316-8acf-93ed5744cb9g", // not hex
			"f380739f062f3-4316-8acf-93ed5744cb9e", // dash misplaced
			"0", "42", "12345678901234567890", "-7", "007",
			"1234567890123456", // 16 bytes: must not be read as a raw UUID
			"abcdefghijklmnop",
			"~", "~abc", "~~", "~234567890123456",
			"ユーザー", "用户-ünïcødé-🙂", "a", strings.Repeat("x", 256),
			"\x00\x01binary\xff",
		}
		for range 100 {
			ids = append(ids, uuid.NewString())
		}
		seen := map[string]string{}
		for _, id := range ids {
			enc := redisstore.EncodeUserID(id)
			if got := redisstore.DecodeUserID(enc); got != id {
				t.Fatalf("DecodeUserID(EncodeUserID(%q))=%q", id, got)
			}
			if prev, ok := seen[enc]; ok && prev != id {
				t.Fatalf("%q and %q encode alike", prev, id)
			}
			seen[enc] = id
		}
	})
	t.Run("Compact", func(t *testing.T) {
		if got := len(redisstore.EncodeUserID(uuid.NewString())); got != 16 {
			t.Fatalf("len(encoded UUID)=%d, want 16", got)
		}
		if got, want := redisstore.EncodeUserID("12345"), "12345"; got != want {
			t.Fatalf("EncodeUserID(12345)=%q, want %q", got, want)
		}
	})
}
