package http_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"

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
// included.
func BenchmarkEnrollHandler(b *testing.B) {
	const id = "f380739f-62f3-4316-8acf-93ed5744cb9e"
	stub := &stubEnrollments{assign.Enrollment{ExperimentID: id, Enrolled: true, Group: "new_journey"}}

	b.Run("Stub", func(b *testing.B) {
		benchEnroll(b, stub, auth.Config{HS256Secret: testSecret}, id)
	})
	b.Run("StubUncachedToken", func(b *testing.B) {
		benchEnroll(b, stub, auth.Config{HS256Secret: testSecret, CacheSize: -1}, id)
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
		benchEnroll(b, store, auth.Config{HS256Secret: testSecret}, id)
	})
}

func benchEnroll(b *testing.B, enrollments assign.EnrollmentService, cfg auth.Config, id string) {
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		b.Fatal(err)
	}
	s := assignhttp.NewServer()
	s.Enrollments, s.Verifier = enrollments, v
	s.EnrollTimeout = time.Second
	h := s.Handler()

	tok, err := auth.SignHS256(testSecret, "c0a80101-0000-4000-8000-000000000001", time.Hour, map[string]any{"first_order": true})
	if err != nil {
		b.Fatal(err)
	}
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(fasthttp.MethodPost)
	ctx.Request.SetRequestURI("/api/experiment-enrollments")
	ctx.Request.Header.SetContentType("application/json")
	ctx.Request.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+tok)
	ctx.Request.SetBodyString(`{"experiment_id":"` + id + `"}`)

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx.Response.Reset()
		h(&ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
}
