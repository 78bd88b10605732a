package assign

import (
	"crypto/sha256"
	"encoding/binary"
)

// Draw holds the two independent uniform numbers in [0, 1) that decide a
// user's fate in one experiment, and the member bucket the user is stored in.
//
// They come from a keyed hash of (salt, experiment id, user id), so the same
// user always draws the same numbers in an experiment (stickiness, including
// not_sampled), draws of different experiments are independent (each has its
// own random salt), and Redis needs no randomness of its own.
type Draw struct {
	Sample float64 // sampled when Sample < sampling probability
	Group  float64 // picks the group by cumulative probability
	Bucket uint32  // member bucket, before reduction modulo the bucket count
}

// NewDraw derives the draws of userID in an experiment. The hash is SHA-256
// over salt, id and user with length prefixes, so no two inputs collide by
// concatenation. It does not allocate for ids of ordinary length.
func NewDraw(salt, experimentID, userID string) Draw {
	var buf [256]byte
	b := buf[:0]
	b = appendField(b, salt)
	b = appendField(b, experimentID)
	b = appendField(b, userID)
	sum := sha256.Sum256(b)
	return Draw{
		Sample: unitFloat(binary.BigEndian.Uint64(sum[0:8])),
		Group:  unitFloat(binary.BigEndian.Uint64(sum[8:16])),
		Bucket: binary.BigEndian.Uint32(sum[16:20]),
	}
}

// NewLayerDraw derives the draw that picks a user's experiment inside a layer.
// It is independent of every experiment's own draws (different key).
func NewLayerDraw(layer, userID string) float64 {
	var buf [256]byte
	b := buf[:0]
	b = appendField(b, "layer")
	b = appendField(b, layer)
	b = appendField(b, userID)
	sum := sha256.Sum256(b)
	return unitFloat(binary.BigEndian.Uint64(sum[0:8]))
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// unitFloat maps 64 random bits to [0, 1) using the top 53 bits, which a
// float64 holds exactly.
func unitFloat(x uint64) float64 {
	return float64(x>>11) / (1 << 53)
}

// Sampled reports whether a draw falls in the sample at probability p.
func (d Draw) Sampled(p float64) bool { return d.Sample < p }

// CumulativeProbabilities returns the running sums of the groups'
// probabilities, the last forced to exactly 1 so that every draw below 1
// falls in some group despite rounding.
func CumulativeProbabilities(groups []Group) []float64 {
	cum := make([]float64, len(groups))
	sum := 0.0
	for i, g := range groups {
		sum += g.Probability
		cum[i] = sum
	}
	if len(cum) > 0 {
		cum[len(cum)-1] = 1
	}
	return cum
}

// ChooseGroup returns the index of the group a uniform u in [0, 1) falls in:
// the first i with u < cum[i]. The Lua script applies the same rule.
// Groups of probability 0 are never chosen.
func ChooseGroup(cum []float64, u float64) int {
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	return len(cum) - 1
}
