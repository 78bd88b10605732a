package main_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/warehouse"
	"github.com/assign-dev/assign/warehouse/duckdb"
)

// TestDeadLetters_ListAndReplay: the command lists the dead letters, and
// --replay appends each one's fields (as an operator fixed them) to its
// stream again and deletes it.
func TestDeadLetters_ListAndReplay(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer client.Close()
	path := filepath.Join(t.TempDir(), "w.duckdb")
	sink, err := duckdb.Open(path, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	stream := redisstore.EventsKey(redisstore.Keys{}.Prefix("e", ""))
	fields := map[string]any{redisstore.EventType: redisstore.EventEnroll, redisstore.EventUser: "fixed-user",
		redisstore.EventGroup: "a", redisstore.EventTime: "1773480413589"}
	letters := []warehouse.DeadLetter{
		{Stream: stream, EntryID: "1-0", ExperimentID: "e", Reason: warehouse.ReasonRefused, Error: "check violated",
			Fields: warehouse.EncodeFields(fields), SeenAt: time.Now()},
		{Stream: stream, EntryID: "2-0", ExperimentID: "e", Reason: warehouse.ReasonMalformed, Error: "unknown event type",
			Fields: `{"type":"mystery"}`, SeenAt: time.Now()},
	}
	if err := sink.WriteDeadLetters(ctx, letters); err != nil {
		t.Fatal(err)
	}
	sink.Close()

	m, out, errb := newMain(nil)
	if code := m.Run(ctx, []string{"dead-letters", "--warehouse-url", path}); code != 0 {
		t.Fatalf("list: exit %d: %s", code, errb)
	}
	if !strings.Contains(out.String(), "check violated") || !strings.Contains(errb.String(), "2 dead letters") {
		t.Fatalf("list: %q %q", out, errb)
	}
	m, out, errb = newMain(nil)
	if code := m.Run(ctx, []string{"dead-letters", "--warehouse-url", path, "--redis-url", "redis://" + mr.Addr(),
		"--reason", "refused", "--replay"}); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errb)
	}
	msgs, err := client.XRange(ctx, stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Values[redisstore.EventUser] != "fixed-user" || msgs[0].Values[redisstore.EventTime] != "1773480413589" {
		t.Fatalf("stream after replay: %+v", msgs)
	}
	sink, _ = duckdb.Open(path, duckdb.Options{})
	defer sink.Close()
	left, err := sink.ReadDeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].EntryID != "2-0" {
		t.Fatalf("left after replaying the refused one: %+v", left)
	}
}
