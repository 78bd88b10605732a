package http_test

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	assignhttp "github.com/assign-dev/assign/http"
)

// blockingInsights holds every read until released.
type blockingInsights struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blockingInsights) wait() { b.entered <- struct{}{}; <-b.release }
func (b *blockingInsights) Changes(ctx context.Context, id string) ([]assignhttp.ExperimentChange, error) {
	b.wait()
	return nil, nil
}
func (b *blockingInsights) DailyEnrollments(ctx context.Context, id string) ([]assignhttp.DailyEnrollments, error) {
	b.wait()
	return nil, nil
}
func (b *blockingInsights) Results(ctx context.Context, id string) (any, error) {
	b.wait()
	return map[string]any{}, nil
}

// At most MaxInsightsCalls warehouse reads run at once; one more answers
// 503 with Retry-After at once instead of queueing, and the slots free up.
func TestInsights_Limit(t *testing.T) {
	b := &blockingInsights{entered: make(chan struct{}, 16), release: make(chan struct{})}
	ts := MustOpenServer(t, func(s *assignhttp.Server) {
		s.Insights = b
		s.Logger = slog.New(slog.DiscardHandler)
	})
	ts.MustCreate(t, seedExperiment)
	path := "/api/experiments/f380739f-62f3-4316-8acf-93ed5744cb9e/changes"
	var wg sync.WaitGroup
	codes := make(chan int, assignhttp.MaxInsightsCalls)
	for range assignhttp.MaxInsightsCalls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- ts.Do(t, "GET", path, adminToken, "").Status
		}()
	}
	for range assignhttp.MaxInsightsCalls {
		<-b.entered // every slot taken
	}
	r := ts.Do(t, "GET", path, adminToken, "")
	MustStatus(t, r, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" || r.ErrorCode(t) != "unavailable" {
		t.Fatalf("over the limit: %v %s", r.Header, r.Body)
	}
	close(b.release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Fatalf("a read within the limit answered %d", c)
		}
	}
	MustStatus(t, ts.Do(t, "GET", path, adminToken, ""), http.StatusOK)
}
