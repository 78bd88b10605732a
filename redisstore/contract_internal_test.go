package redisstore

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/scripts"
)

// The enrollment call puts every key and argument at its position of the
// contract (scripts/contract.go), in and out of a layer, with and without
// older generations; its one-allocation strings (the draws formatted in
// place) read as formatFloat writes them; and keysAndArgs, for the paths
// through go-redis's Script, carries the same KEYS and ARGV.
func TestEnrollCall_Positions(t *testing.T) {
	s := New(nil, Keys{Namespace: "t:"})
	str := func(v any) any {
		if p, ok := v.(*string); ok {
			return *p
		}
		return v
	}
	for _, layer := range []string{"", "checkout"} {
		for _, buckets := range [][]uint32{{64}, {64, 128, 512}, {1, 2, 4, 8, 16, 32, 64, 128}} {
			def := definitionJSON{ID: "exp", Groups: []string{"a", "b"}, Layer: layer, Salt: "salt"}
			d := s.newDefinition(def, buckets, fmt.Sprint(buckets), 1700000000, "fp", 1024)
			for _, req := range []assign.EnrollRequest{
				{ExperimentID: "exp", UserID: "c0a80101-0000-4000-8000-00000000beef", Platform: "ios"},
				{ExperimentID: "exp", UserID: "~plain-user"},
			} {
				for _, eligible := range []bool{true, false} {
					call := s.newEnrollCall(d, req, eligible)
					draw := assign.NewDraw(d.Salt, d.ID, req.UserID)
					fixed, nargs := scripts.EnrollKeyOlder-1, scripts.EnrollArgs
					if layer != "" {
						fixed, nargs = scripts.EnrollKeyOlderInLayer-1, scripts.EnrollArgsInLayer
					}
					wantKeys := make([]any, fixed)
					wantKeys[scripts.EnrollKeyConfig-1] = ConfigKey(d.prefix)
					wantKeys[scripts.EnrollKeyBucket-1] = d.generationKey(len(buckets)-1, draw.Bucket)
					wantKeys[scripts.EnrollKeyEvents-1] = EventsKey(d.prefix)
					wantKeys[scripts.EnrollKeyOverrides-1] = OverridesKey(d.prefix)
					wantArgs := make([]any, nargs)
					wantArgs[scripts.EnrollArgMember-1] = EncodeUserID(req.UserID)
					wantArgs[scripts.EnrollArgUserID-1] = req.UserID
					wantArgs[scripts.EnrollArgSample-1] = formatFloat(draw.Sample)
					wantArgs[scripts.EnrollArgGroup-1] = formatFloat(draw.Group)
					wantArgs[scripts.EnrollArgEligible-1] = map[bool]string{true: scripts.ArgTrue, false: scripts.ArgFalse}[eligible]
					wantArgs[scripts.EnrollArgFP-1] = "fp"
					wantArgs[scripts.EnrollArgLayout-1] = fmt.Sprint(buckets)
					wantArgs[scripts.EnrollArgPlatform-1] = req.EffectivePlatform()
					if layer != "" {
						slot, owner := layerPosition(layer, req.UserID, 1024)
						wantKeys[scripts.EnrollKeyLayer-1] = s.keys.Layer(layer)
						wantKeys[scripts.EnrollKeyOwners-1] = s.keys.LayerOwner(layer, owner)
						wantArgs[scripts.EnrollArgSlot-1] = strconv.Itoa(slot)
					}
					for g := len(buckets) - 2; g >= 0; g-- {
						wantKeys = append(wantKeys, d.generationKey(g, draw.Bucket))
					}
					want := append(append([]any{"evalsha", scripts.Enroll.Hash(), len(wantKeys)}, wantKeys...), wantArgs...)

					got := call.evalsha()
					if len(got) != len(want) {
						t.Fatalf("layer %q, buckets %v: %d arguments, want %d", layer, buckets, len(got), len(want))
					}
					for i := range want {
						if str(got[i]) != want[i] {
							t.Errorf("layer %q, buckets %v, user %s: argument %d is %#v, want %#v", layer, buckets, req.UserID, i, str(got[i]), want[i])
						}
					}
					keys, args := call.keysAndArgs()
					if len(keys) != len(wantKeys) || len(args) != len(wantArgs) {
						t.Fatalf("keysAndArgs: %d keys, %d args; want %d, %d", len(keys), len(args), len(wantKeys), len(wantArgs))
					}
					for i, k := range keys {
						if k != wantKeys[i] {
							t.Errorf("keysAndArgs: key %d is %q, want %q", i, k, wantKeys[i])
						}
					}
					for i, a := range args {
						if str(a) != wantArgs[i] {
							t.Errorf("keysAndArgs: arg %d is %#v, want %#v", i, str(a), wantArgs[i])
						}
					}
				}
			}
		}
	}
}
