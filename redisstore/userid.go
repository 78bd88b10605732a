package redisstore

import (
	"encoding/hex"
)

// The member field of a user (in the member buckets and the layer owner
// buckets) is the user id in one of four forms, told apart by the field's
// length and first bytes alone, so that no two forms can meet:
//
//	form      user id                           field                   fields of this form
//	uuid      canonical lowercase UUID          its 16 raw bytes        every 16-byte field
//	plain     not 16 bytes, not starting '~'    the id itself           first byte not '~', length not 16
//	tilde     16 bytes, or starting '~'         "~" + id                "~~...", or "~" + 16 bytes
//	          (except the next form)                                    (length 17)
//	tilde15   15 bytes starting '~'             "~##" + id              "~##" + 15 bytes (length 18)
//
// The tilde form of a 15-byte id starting with '~' would be 16 bytes long,
// the length of a raw UUID: "~ABCDEFGHIJKLMN" and the UUID
// 7e7e4142-4344-4546-4748-494a4b4c4d4e were both stored as "~~ABCDEFGHIJKLMN"
// before the tilde15 form existed, so that two users were one member. Every
// other id is stored exactly as it always was (so a user enrolled before is
// found again under the same field, never enrolled twice), and the compact
// forms are kept: a UUID costs 16 bytes, a decimal id is an integer in the
// listpack.
//
// Fields written before the tilde15 form: all decode as they did. The one
// ambiguous case is a 16-byte field starting "~~": it was written either by
// a UUID starting 7e7e or by a 15-byte id starting '~', and it decodes as the
// UUID, as it always did. Such a '~' user, enrolled before this encoding, is
// listed (and restored from Redis) under the UUID's name, and on their next
// enrollment is looked up under their tilde15 field, not found, and enrolled
// as a new member: counted a second time (the warehouse keeps one row, its
// key is (experiment_id, user_id) with the id as given). Only ids of exactly
// 15 bytes starting with '~' are concerned.
const tilde15 = "~##"

// EncodeUserID returns the member field of a user id (see the forms above).
// It is one to one: DecodeUserID(EncodeUserID(id)) == id for every id.
func EncodeUserID(id string) string {
	if u, ok := parseUUID(id); ok {
		return string(u[:]) // uuid
	}
	if len(id) == 15 && id[0] == '~' {
		return tilde15 + id // tilde15: "~" + id would be 16 bytes, a raw UUID
	}
	if len(id) == 16 || (len(id) > 0 && id[0] == '~') {
		return "~" + id // tilde: never 16 bytes (the case above)
	}
	return id // plain: not 16 bytes, does not start with '~'
}

// DecodeUserID inverts EncodeUserID, for fields of every form (and those
// written before the tilde15 form: see the ambiguous case above). UUIDs come
// back in lowercase.
func DecodeUserID(enc string) string {
	switch {
	case len(enc) == 16:
		var dst [36]byte
		hex.Encode(dst[0:8], []byte(enc[0:4]))
		dst[8] = '-'
		hex.Encode(dst[9:13], []byte(enc[4:6]))
		dst[13] = '-'
		hex.Encode(dst[14:18], []byte(enc[6:8]))
		dst[18] = '-'
		hex.Encode(dst[19:23], []byte(enc[8:10]))
		dst[23] = '-'
		hex.Encode(dst[24:36], []byte(enc[10:16]))
		return string(dst[:])
	case len(enc) == len(tilde15)+15 && enc[:len(tilde15)] == tilde15 && enc[len(tilde15)] == '~':
		return enc[len(tilde15):]
	case len(enc) > 0 && enc[0] == '~':
		return enc[1:]
	}
	return enc
}

// parseUUID parses the 36-character form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.
// Only lowercase is accepted, so that decoding gives back the same string.
// Every other byte must be a hex digit: a dash elsewhere is refused (it once
// let the loop read past the end: a panic on a 36-byte id such as
// "00000000-0000-0000-0000-0000-0000000", found by FuzzEncodeUserID).
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	for j, i := 0, 0; j < 16; j++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
		}
		hi, ok1 := fromHexLower(s[i])
		lo, ok2 := fromHexLower(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		i += 2
	}
	return u, true
}

func fromHexLower(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
