package http_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/answercache"
	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/auth"
	assignhttp "github.com/assign-dev/assign/http"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

// stubEnrollments answers every enrollment with one fixed decision, so a
// benchmark measures the HTTP layer alone.
type stubEnrollments struct{ e assign.Enrollment }

func (s *stubEnrollments) Enroll(ctx context.Context, req assign.EnrollRequest) (*assign.Enrollment, error) {
	return &s.e, nil
}

// BenchmarkEnrollHandler drives Handler() with a RequestCtx built in process
// (no network): "Stub" is the HTTP layer alone with a returning client's
// token (verification cache hit), "StubUncachedToken" adds a full HS256
// verification per request, "Redis" goes through redisstore to the real
// Redis (a returning member: the sticky read), allocations of go-redis
// included, "RedisCached" the same answered by the answer cache, and
// "StubNewToken" a new user's token per request.
func BenchmarkEnrollHandler(b *testing.B) {
	const id = "f380739f-62f3-4316-8acf-93ed5744cb9e"
	stub := &stubEnrollments{assign.Enrollment{ExperimentID: id, Enrolled: true, Group: "new_journey"}}

	b.Run("Stub", func(b *testing.B) {
		benchEnroll(b, stub, auth.Config{HS256Secret: testSecret}, id, 1)
	})
	b.Run("StubUncachedToken", func(b *testing.B) {
		benchEnroll(b, stub, auth.Config{HS256Secret: testSecret, CacheSize: -1}, id, 1)
	})
	b.Run("Redis", func(b *testing.B) {
		client := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(b), ContextTimeoutEnabled: true})
		ns := testenv.Namespace()
		b.Cleanup(func() {
			ctx := context.Background()
			iter := client.Scan(ctx, 0, ns+"*", 1000).Iterator()
			for iter.Next(ctx) {
				client.Del(ctx, iter.Val())
			}
			client.Close()
		})
		store := redisstore.New(client, redisstore.Keys{Namespace: ns})
		e := &assign.Experiment{ID: id, MaxSampleSize: 1000, SamplingProbability: 1,
			Groups: []assign.Group{{Name: "old_journey", Probability: 0.5}, {Name: "new_journey", Probability: 0.5}}}
		if err := store.CreateExperiment(context.Background(), e); err != nil {
			b.Fatal(err)
		}
		benchEnroll(b, store, auth.Config{HS256Secret: testSecret}, id, 1)
	})
	b.Run("RedisCached", func(b *testing.B) {
		// The same returning member, answered by the answer cache (no
		// Redis call): what assignd does by default.
		client := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(b), ContextTimeoutEnabled: true})
		ns := testenv.Namespace()
		ctx, cancel := context.WithCancel(context.Background())
		listening := make(chan struct{})
		b.Cleanup(func() {
			cancel()
			<-listening
			iter := client.Scan(context.Background(), 0, ns+"*", 1000).Iterator()
			for iter.Next(context.Background()) {
				client.Del(context.Background(), iter.Val())
			}
			client.Close()
		})
		store := redisstore.New(client, redisstore.Keys{Namespace: ns})
		store.Answers = answercache.New(1<<12, time.Minute)
		go func() {
			defer close(listening)
			_ = store.Listen(ctx)
		}()
		for deadline := time.Now().Add(5 * time.Second); !store.Answers.Serving(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatal("the answer cache does not answer")
			}
		}
		e := &assign.Experiment{ID: id, MaxSampleSize: 1000, SamplingProbability: 1,
			Groups: []assign.Group{{Name: "old_journey", Probability: 0.5}, {Name: "new_journey", Probability: 0.5}}}
		if err := store.CreateExperiment(context.Background(), e); err != nil {
			b.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // the creation's notice, before the first answer is kept
		benchEnroll(b, store, auth.Config{HS256Secret: testSecret}, id, 1)
		if st := store.Answers.Stats(); st.Hits < uint64(b.N)-1 {
			b.Fatalf("%d of %d decisions answered by the cache", st.Hits, b.N)
		}
	})
	b.Run("StubNewToken", func(b *testing.B) {
		// A new user's token each time (the verification cache misses and
		// fills): the HTTP layer's cost of a new user.
		benchEnroll(b, stub, auth.Config{HS256Secret: testSecret}, id, 1<<17)
	})
}

// benchEnroll drives the handler with one returning user's token, or with
// users > 1, a new user's token per request, from a pool larger than the
// verification cache.
func benchEnroll(b *testing.B, enrollments assign.EnrollmentService, cfg auth.Config, id string, users int) {
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		b.Fatal(err)
	}
	s := assignhttp.NewServer()
	s.Enrollments, s.Verifier = enrollments, v
	s.EnrollTimeout = time.Second
	h := s.Handler()

	toks := make([]string, users)
	for i := range toks {
		if toks[i], err = auth.SignHS256(testSecret, fmt.Sprintf("c0a80101-0000-4000-8000-%012d", i+1), time.Hour, map[string]any{"first_order": true}); err != nil {
			b.Fatal(err)
		}
	}
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.SetRequestURI("/api/experiment-enrollments")
	ctx.Request.Header.SetContentType("application/json")
	ctx.Request.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+toks[0])
	ctx.Request.SetBodyString(`{"experiment_id":"` + id + `"}`)

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if users > 1 {
			ctx.Request.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+toks[i%users])
		}
		ctx.Response.Reset()
		h(&ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}
