package exporter_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/assign-dev/assign/exporter"
	"github.com/assign-dev/assign/warehouse"
)

// benchRows is the size of one benchmark export.
const benchRows = 100_000

// BenchmarkExportPostgres measures the exporter moving 100k enrollment
// events from the real Redis into PostgreSQL: rows/s from the start of Run
// to the last commit, and the peak Go heap while it runs. Run it with
//
//	go test -run '^$' -bench BenchmarkExport -benchtime 1x ./exporter
func BenchmarkExportPostgres(b *testing.B) {
	benchExport(b, func(b *testing.B) warehouse.Sink { s, _ := pgSink(b, ""); return s })
}

// BenchmarkExportDuckDB is BenchmarkExportPostgres into a DuckDB file
// opened per batch (the default mode).
func BenchmarkExportDuckDB(b *testing.B) {
	benchExport(b, func(b *testing.B) warehouse.Sink { return duckSink(b) })
}

func benchExport(b *testing.B, open func(*testing.B) warehouse.Sink) {
	var elapsed time.Duration
	var peak uint64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		be := realRedis(b)
		sink := open(b)
		if err := sink.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		k := createExperiment(b, be, "bench", "", 1)
		enroll(b, be, k, "bench", "user-", benchRows, 0)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		b.StartTimer()

		e := &exporter.Exporter{Client: be.Client, Keys: be.Keys, Sink: sink, Consumer: "bench",
			FlushInterval: 100 * time.Millisecond, Logger: testLogger()}
		began := time.Now()
		r := start(e)
		for e.Stats().Rows < benchRows {
			time.Sleep(20 * time.Millisecond)
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base {
				peak = max(peak, ms.HeapInuse-base)
			}
		}
		elapsed += time.Since(began)
		b.StopTimer()
		if err := r.stop(b); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(peak)/(1<<20), "MB-peak-heap")
}
