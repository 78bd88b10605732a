package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/assign-dev/assign/warehouse/warehousetest"
)

// BenchmarkWriteBatch measures one 5,000-row batch of new enrollments
// (COPY into the staging table, INSERT ... ON CONFLICT, commit).
//
//	go test -run '^$' -bench WriteBatch ./warehouse/postgres
func BenchmarkWriteBatch(b *testing.B) {
	s, _ := MustOpenSink(b)
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	const n = 5000
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows := warehousetest.Enrollments(fmt.Sprintf("exp-%d", i), n)
		if err := s.WriteBatch(ctx, rows, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
