package redisstore_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// The two ids that were one member under the encoding before the tilde15
// form: both were stored as the field "~~ABCDEFGHIJKLMN".
const (
	tildeID     = "~ABCDEFGHIJKLMN" // 15 bytes starting with '~'
	tildeIDUUID = "7e7e4142-4344-4546-4748-494a4b4c4d4e"
)

// legacyEncodeUserID is EncodeUserID as it was before the tilde15 form (not
// one to one: 15-byte ids starting with '~' met raw UUIDs), kept to check
// that every other id is still stored as it was.
func legacyEncodeUserID(id string) string {
	if u, err := uuid.Parse(id); err == nil && u.String() == id {
		return string(u[:])
	}
	if len(id) == 16 || (len(id) > 0 && id[0] == '~') {
		return "~" + id
	}
	return id
}

// legacyAmbiguous reports whether id is of the one class whose legacy field
// another id (a UUID starting 7e7e) shares.
func legacyAmbiguous(id string) bool { return len(id) == 15 && id[0] == '~' }

// userIDSamples are ids of every form and at every boundary of the encoding.
func userIDSamples() []string {
	ids := []string{
		"f380739f-62f3-4316-8acf-93ed5744cb9e",
		"F380739F-62F3-4316-8ACF-93ED5744CB9E", // uppercase stays a string
		"f380739f-62f3-4316-8acf-93ed5744cb9",  // 35 characters
		"f380739f-62f3-4316-8acf-93ed5744cb9g", // not hex
		"f380739f062f3-4316-8acf-93ed5744cb9e", // dash misplaced
		"00000000-0000-0000-0000-0000-0000000", // an extra dash: parseUUID read past the end (a panic)
		"0", "42", "12345678901234567890", "-7", "007", "",
		"1234567890123456", // 16 bytes: must not be read as a raw UUID
		"abcdefghijklmnop",
		"~", "~abc", "~~", "~234567890123456",
		tildeID, tildeIDUUID, "~~ABCDEFGHIJKLM", "~##~ABCDEFGHIJKL", "##~ABCDEFGHIJKLMN",
		"~##~ABCDEFGHIJKLMN", "#~ABCDEFGHIJKLMN", "~#ABCDEFGHIJKLM", "~~~~~~~~~~~~~~~",
		strings.Repeat("~", 14), strings.Repeat("~", 16), strings.Repeat("~", 17), strings.Repeat("~", 18),
		"ユーザー", "用户-ünïcødé-🙂", "a", strings.Repeat("x", 256),
		"\x00\x01binary\xff",
	}
	for range 100 {
		ids = append(ids, uuid.NewString())
	}
	return ids
}

func TestEncodeUserID(t *testing.T) {
	t.Run("RoundTrip", func(t *testing.T) {
		seen := map[string]string{}
		for _, id := range userIDSamples() {
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
	t.Run("TheCollisionOfIssue10", func(t *testing.T) {
		a, b := redisstore.EncodeUserID(tildeID), redisstore.EncodeUserID(tildeIDUUID)
		if a == b {
			t.Fatalf("%q and %q both encode to %q", tildeID, tildeIDUUID, a)
		}
		if got, want := b, "~~ABCDEFGHIJKLMN"; got != want {
			t.Fatalf("the UUID encodes to %q, want its raw bytes %q (unchanged)", got, want)
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
	// Members stored before the tilde15 form stay readable and are found
	// again: every id but the ambiguous class encodes as it did, and every
	// legacy field decodes as it did.
	t.Run("Legacy", func(t *testing.T) {
		for _, id := range userIDSamples() {
			old := legacyEncodeUserID(id)
			if legacyAmbiguous(id) {
				if got, want := redisstore.DecodeUserID(old), uuidOf(old); got != want {
					t.Fatalf("legacy field %q of %q decodes to %q, want the UUID %q (as it always did)", old, id, got, want)
				}
				continue
			}
			if got := redisstore.EncodeUserID(id); got != old {
				t.Fatalf("EncodeUserID(%q)=%q, was %q: a member enrolled before would not be found", id, got, old)
			}
			if got := redisstore.DecodeUserID(old); got != id {
				t.Fatalf("legacy field %q decodes to %q, want %q", old, got, id)
			}
		}
	})
}

// uuidOf returns the UUID whose raw bytes are the 16-byte b.
func uuidOf(b string) string {
	u, err := uuid.FromBytes([]byte(b))
	if err != nil {
		panic(err)
	}
	return u.String()
}

// FuzzEncodeUserID checks that the encoding is one to one (decode(encode(x))
// is x, distinct ids get distinct fields), stays compact, and is the legacy
// encoding for every id outside the one ambiguous class.
func FuzzEncodeUserID(f *testing.F) {
	ids := userIDSamples()
	for i, id := range ids {
		f.Add(id, ids[(i+1)%len(ids)])
	}
	f.Add(tildeID, tildeIDUUID)
	f.Fuzz(func(t *testing.T, a, b string) {
		ea, eb := redisstore.EncodeUserID(a), redisstore.EncodeUserID(b)
		if got := redisstore.DecodeUserID(ea); got != a {
			t.Fatalf("DecodeUserID(EncodeUserID(%q))=%q (field %q)", a, got, ea)
		}
		if a != b && ea == eb {
			t.Fatalf("%q and %q both encode to %q", a, b, ea)
		}
		if (len(ea) == 16) != isLowerUUID(a) {
			t.Fatalf("EncodeUserID(%q)=%q: 16-byte fields are for canonical UUIDs alone", a, ea)
		}
		if !legacyAmbiguous(a) {
			if old := legacyEncodeUserID(a); ea != old {
				t.Fatalf("EncodeUserID(%q)=%q, was %q", a, ea, old)
			}
		}
		// Any legacy field decodes to its id, but in the ambiguous case.
		if old := legacyEncodeUserID(a); !legacyAmbiguous(a) && redisstore.DecodeUserID(old) != a {
			t.Fatalf("legacy field %q decodes to %q, want %q", old, redisstore.DecodeUserID(old), a)
		}
	})
}

func isLowerUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

// TestEncodeUserID_CollidingUsers enrolls the two ids that were one member,
// in either order, plainly and in a layer: both are new members, both are
// counted, both are listed under their own ids.
func TestEncodeUserID_CollidingUsers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		for _, tc := range []struct {
			name  string
			exp   *assign.Experiment
			users []string
		}{
			{"TildeFirst", newExperiment("tilde-first", 100, 1), []string{tildeID, tildeIDUUID}},
			{"UUIDFirst", newExperiment("uuid-first", 100, 1), []string{tildeIDUUID, tildeID}},
			{"Layer", newLayered("in-layer", "L"), []string{tildeIDUUID, tildeID}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				mustCreate(t, s, tc.exp)
				for _, u := range tc.users {
					e := mustEnroll(t, s, tc.exp.ID, u)
					if !e.Enrolled || !e.New {
						t.Fatalf("Enroll(%q)=%+v, want a new member", u, e)
					}
					if again := mustEnroll(t, s, tc.exp.ID, u); again.New || again.Group != e.Group {
						t.Fatalf("second Enroll(%q)=%+v, want the recorded group %q", u, again, e.Group)
					}
				}
				if n := checkCounts(t, s, tc.exp.ID); n != 2 {
					t.Fatalf("n=%d, want 2", n)
				}
				var listed []string
				if err := s.Members(ctx, tc.exp.ID, func(m assign.Member) error {
					listed = append(listed, m.UserID)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				slices.Sort(listed)
				if want := []string{tildeIDUUID, tildeID}; !slices.Equal(listed, want) {
					t.Fatalf("members %q, want %q", listed, want)
				}
				for _, u := range tc.users {
					if _, ok, err := s.MemberGroup(ctx, tc.exp.ID, u); err != nil || !ok {
						t.Fatalf("MemberGroup(%q)=%v,%v", u, ok, err)
					}
					if tc.exp.Layer != "" {
						if id, ok, err := s.LayerOwner(ctx, tc.exp.Layer, u); err != nil || !ok || id != tc.exp.ID {
							t.Fatalf("LayerOwner(%q)=%q,%v,%v, want %q", u, id, ok, err, tc.exp.ID)
						}
					}
				}
			})
		}
	})
}

// TestEncodeUserID_LegacyMembersFound checks on the real Redis that members
// are stored as a build before the tilde15 form stored them (so members it
// wrote are found), and answered their group again.
func TestEncodeUserID_LegacyMembersFound(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
		ctx := testenv.Context(t)
		mustCreate(t, s, newExperiment("legacy", 100, 1))
		var users []string
		for _, u := range userIDSamples()[:40] {
			if u == "" || len(u) > assign.MaxUserIDLen || legacyAmbiguous(u) || assign.ValidateUserID(u) != nil {
				continue
			}
			users = append(users, u)
		}
		// Every field in the buckets is byte for byte what a build before
		// the tilde15 form wrote (the samples skip the ambiguous class), and
		// each user is found under it: answered their group, not counted
		// again.
		groups := map[string]string{}
		for _, u := range users {
			groups[u] = mustEnroll(t, s, "legacy", u).Group
		}
		keys, err := s.BucketKeys(ctx, "legacy")
		if err != nil {
			t.Fatal(err)
		}
		stored := 0
		for _, k := range keys {
			fields, err := c.HKeys(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fields {
				if old := legacyEncodeUserID(redisstore.DecodeUserID(f)); old != f {
					t.Fatalf("field %q: the legacy field of its user is %q", f, old)
				}
				stored++
			}
		}
		if stored != len(users) {
			t.Fatalf("%d fields stored, want %d", stored, len(users))
		}
		for _, u := range users {
			if e := mustEnroll(t, s, "legacy", u); e.New || e.Group != groups[u] {
				t.Fatalf("Enroll(%q)=%+v, want the recorded group %q", u, e, groups[u])
			}
		}
		if n := checkCounts(t, s, "legacy"); n != int64(len(users)) {
			t.Fatalf("n=%d, want %d", n, len(users))
		}
	})
}
