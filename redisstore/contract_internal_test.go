package redisstore

import (
	"fmt"
	"testing"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/scripts"
)

// The pipelined hot path's EVALSHA command carries exactly the KEYS and ARGV
// of keys and args (which the other paths and the contract tests use), in
// and out of a layer, with and without older generations.
func TestEnrollCall_EvalshaMatchesKeysAndArgs(t *testing.T) {
	s := New(nil, Keys{Namespace: "t:"})
	for _, layer := range []string{"", "checkout"} {
		for _, buckets := range [][]uint32{{64}, {64, 128, 512}, {1, 2, 4, 8, 16, 32, 64, 128}} {
			def := definitionJSON{ID: "exp", Groups: []string{"a", "b"}, Layer: layer, Salt: "salt"}
			layout := fmt.Sprint(buckets)
			d := s.newDefinition(def, buckets, layout, 1700000000, "fp", 1024)
			for _, req := range []assign.EnrollRequest{
				{ExperimentID: "exp", UserID: "c0a80101-0000-4000-8000-00000000beef", Platform: "ios"},
				{ExperimentID: "exp", UserID: "~plain-user"},
			} {
				call := s.newEnrollCall(d, req)
				got := call.evalsha()
				keys, args := call.keys(), call.args()
				want := append([]any{"evalsha", scripts.Enroll.Hash(), len(keys)}, func() []any {
					out := make([]any, 0, len(keys)+len(args))
					for _, k := range keys {
						out = append(out, k)
					}
					return append(out, args...)
				}()...)
				if len(got) != len(want) {
					t.Fatalf("layer %q, buckets %v: %d arguments, want %d", layer, buckets, len(got), len(want))
				}
				for i := range want {
					g := got[i]
					if p, ok := g.(*string); ok {
						g = *p
					}
					if g != want[i] {
						t.Errorf("layer %q, buckets %v, user %s: argument %d is %#v, want %#v", layer, buckets, req.UserID, i, g, want[i])
					}
				}
			}
		}
	}
}
