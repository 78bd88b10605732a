package redisstore

import (
	"encoding/hex"
)

// EncodeUserID returns the compact form of a user id stored as a member
// field. The mapping is one to one:
//   - a canonical lowercase UUID becomes its 16 raw bytes (uppercase is kept as
//     a string, so decoding returns exactly what was given);
//   - a string of exactly 16 bytes, or one starting with '~', gets a '~'
//     prefix so it cannot be mistaken for a raw UUID;
//   - anything else is kept (decimal ids cost little: listpack stores them as integers).
func EncodeUserID(id string) string {
	if u, ok := parseUUID(id); ok {
		return string(u[:])
	}
	if len(id) == 16 || (len(id) > 0 && id[0] == '~') {
		return "~" + id
	}
	return id
}

// DecodeUserID inverts EncodeUserID. UUIDs come back in lowercase.
func DecodeUserID(enc string) string {
	if len(enc) == 16 {
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
	}
	if len(enc) > 0 && enc[0] == '~' {
		return enc[1:]
	}
	return enc
}

// parseUUID parses the 36-character form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.
// Only lowercase is accepted, so that decoding gives back the same string.
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; {
		if s[i] == '-' {
			i++
			continue
		}
		hi, ok1 := fromHexLower(s[i])
		lo, ok2 := fromHexLower(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
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
