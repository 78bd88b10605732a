package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

func TestStore_Errors(t *testing.T) {
	t.Run("Unavailable", func(t *testing.T) {
		m := miniredis.RunT(t)
		c := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1})
		defer c.Close()
		s := newStore(t, c)
		mustCreate(t, s, newExperiment("down", 10, 1))
		mustEnroll(t, s, "down", "warm")
		m.Close()
		ctx, cancel := context.WithTimeout(testenv.Context(t), time.Second)
		defer cancel()
		if err := s.Ping(ctx); assign.ErrorCode(err) != assign.EUNAVAILABLE {
			t.Fatalf("Ping: %v, want unavailable", err)
		}
		if _, err := s.Enroll(ctx, assign.EnrollRequest{ExperimentID: "down", UserID: "u"}); assign.ErrorCode(err) != assign.EUNAVAILABLE {
			t.Fatalf("Enroll: %v, want unavailable", err)
		} else if got, want := assign.ErrorMessage(err), "The store is unavailable."; got != want {
			t.Fatalf("message=%q, want %q (nothing internal leaks)", got, want)
		}
	})
	t.Run("Internal", func(t *testing.T) {
		forEachBackend(t, func(t *testing.T, s *redisstore.Store, c redis.UniversalClient) {
			ctx := testenv.Context(t)
			mustCreate(t, s, newExperiment("broken", 10, 1))
			// A configuration key of the wrong type: Redis answers WRONGTYPE.
			if err := c.Set(ctx, s.Keys().Prefix("broken", ""), "x", 0).Err(); err != nil {
				t.Fatal(err)
			}
			_, err := s.FindExperimentByID(ctx, "broken")
			if assign.ErrorCode(err) != assign.EINTERNAL {
				t.Fatalf("FindExperimentByID: %v, want internal", err)
			} else if got, want := assign.ErrorMessage(err), "Internal error."; got != want {
				t.Fatalf("message=%q, want %q", got, want)
			}
		})
	})
}
