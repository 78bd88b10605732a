package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/warehouse/postgres"
	"github.com/assign-dev/assign/warehouse/warehousetest"
)

func TestSink_Contract(t *testing.T) {
	warehousetest.Run(t, func(t *testing.T) warehousetest.Subject {
		s, pool := MustOpenSink(t)
		return warehousetest.Subject{Warehouse: s, Inspector: inspector{pool, s.Schema()}}
	})
}

// MustOpenSink opens a sink on the test database in a fresh schema, dropped
// when the test ends, and a pool to inspect it.
func MustOpenSink(tb testing.TB) (*postgres.Sink, *pgxpool.Pool) {
	tb.Helper()
	url := testenv.PostgresURL(tb)
	schema := fmt.Sprintf("t_%08x", rand.Uint32())
	ctx := context.Background()
	s, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
	if err != nil {
		tb.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		s.Close()
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema: %v", err)
		}
		pool.Close()
	})
	return s, pool
}

type inspector struct {
	pool   *pgxpool.Pool
	schema string
}

func (i inspector) t(name string) string { return pgx.Identifier{i.schema, name}.Sanitize() }

func (i inspector) Experiment(ctx context.Context, id string) (v int64, by string, max int64, err error) {
	err = i.pool.QueryRow(ctx, `SELECT version, updated_by, maximum_sample_size FROM `+i.t("experiments")+
		` WHERE experiment_id = $1`, id).Scan(&v, &by, &max)
	return
}

func (i inspector) Changes(ctx context.Context, id string) ([]int64, error) {
	rows, err := i.pool.Query(ctx, `SELECT version FROM `+i.t("experiment_changes")+
		` WHERE experiment_id = $1 ORDER BY version`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

func (i inspector) Migrations(ctx context.Context) (n int, err error) {
	err = i.pool.QueryRow(ctx, `SELECT count(*) FROM `+i.t("schema_migrations")).Scan(&n)
	return
}
