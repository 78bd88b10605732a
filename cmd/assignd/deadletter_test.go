package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/redisstore"
)

// TestMain_DeadLetterOnReadyzAndMetrics: an enrollment event with a NUL in
// its user id, written straight into the stream, is dead-lettered: /readyz
// names it (and stays ready), /metrics counts it, and the enrollment after
// it still reaches the warehouse.
func TestMain_DeadLetterOnReadyzAndMetrics(t *testing.T) {
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.Exporter = true
	m.Config.WarehouseURL = filepath.Join(t.TempDir(), "assign.duckdb")
	m.Config.ExportFlushInterval = 20 * time.Millisecond
	m.Stdout = new(strings.Builder)
	m.Logger = discardLogger()
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	out := m.Stdout.(*strings.Builder).String()
	admin, user := valueAfter(t, out, "export ADMIN_TOKEN="), valueAfter(t, out, "export USER_TOKEN=")
	url := m.Server.URL()
	if code, b := post(t, url+"/api/experiment-create", admin, `{"experiment_id":"dl","maximum_sample_size":5,"groups":[{"group_name":"a","probability_of_falling_in":1}]}`); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	stream := redisstore.EventsKey(m.Store.Keys().Prefix("dl", ""))
	err := m.Store.Client().XAdd(context.Background(), &redis.XAddArgs{Stream: stream, Values: []any{
		redisstore.EventType, redisstore.EventEnroll, redisstore.EventUser, "nul\x00user",
		redisstore.EventGroup, "a", redisstore.EventTime, "1773480413589"}}).Err()
	if err != nil {
		t.Fatal(err)
	}
	if code, b := post(t, url+"/api/experiment-enrollments", user, `{"experiment_id":"dl"}`); code != 200 {
		t.Fatalf("enroll: %d %s", code, b)
	}

	type readyz struct {
		Details struct {
			Exporter struct {
				Rows           uint64 `json:"rows_exported"`
				DeadLetters    uint64 `json:"dead_letters"`
				LastDeadLetter *struct {
					Stream, Reason, Error string
					EntryID               string `json:"entry_id"`
				} `json:"last_dead_letter"`
			} `json:"exporter"`
		} `json:"details"`
	}
	var r readyz
	waitFor(t, func() bool {
		body, err := httpGet(url + "/readyz")
		if err != nil {
			return false
		}
		r = readyz{}
		_ = json.Unmarshal([]byte(body), &r)
		return r.Details.Exporter.DeadLetters == 1 && r.Details.Exporter.Rows == 1
	})
	if l := r.Details.Exporter.LastDeadLetter; l == nil || l.Reason != "invalid_text" || l.Stream != stream || !strings.Contains(l.Error, "NUL") {
		t.Fatalf("/readyz last_dead_letter = %+v", l)
	}
	exposition, err := httpGet(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(exposition, `assign_exporter_dead_letters_total{reason="invalid_text"} 1`) {
		t.Fatalf("/metrics has no dead letter counted:\n%s", deadLetterLines(exposition, "dead_letters"))
	}
}

func deadLetterLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
