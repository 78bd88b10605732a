package nightly

import (
	"bufio"
	"encoding/csv"
	"os"
	"path/filepath"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/assign-dev/assign/warehouse"
)

// Row is one enrollment as stored in the Parquet files.
type Row struct {
	ExperimentID string    `parquet:"experiment_id"`
	UserID       string    `parquet:"user_id"`
	GroupName    string    `parquet:"group_name"`
	EnrolledAt   time.Time `parquet:"enrolled_at,timestamp(millisecond)"`
}

// CSVHeader is the first line of the CSV files; times are RFC 3339 in UTC
// with milliseconds.
var CSVHeader = []string{"experiment_id", "user_id", "group_name", "enrolled_at"}

// CSVTime is the layout of enrolled_at in the CSV files.
const CSVTime = "2006-01-02T15:04:05.000Z"

// rowGroupSize bounds the rows a Parquet writer holds in memory.
const rowGroupSize = 64 * 1024

// partition writes one experiment's day.
type partition struct {
	id     string
	pf, cf *os.File
	pw     *parquet.GenericWriter[Row]
	cbuf   *bufio.Writer
	cw     *csv.Writer
	rows   []Row
}

func openPartition(staging, id, day string) (*partition, error) {
	dir := filepath.Join(staging, partitionDir(id, day))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	pf, err := os.Create(filepath.Join(dir, ParquetFile))
	if err != nil {
		return nil, err
	}
	cf, err := os.Create(filepath.Join(dir, CSVFile))
	if err != nil {
		pf.Close()
		return nil, err
	}
	p := &partition{id: id, pf: pf, cf: cf,
		pw:   parquet.NewGenericWriter[Row](pf, parquet.MaxRowsPerRowGroup(rowGroupSize)),
		cbuf: bufio.NewWriterSize(cf, 64*1024),
		rows: make([]Row, 0, 1024)}
	p.cw = csv.NewWriter(p.cbuf)
	if err := p.cw.Write(CSVHeader); err != nil {
		p.abort()
		return nil, err
	}
	return p, nil
}

func (p *partition) write(r warehouse.EnrollmentRow) error {
	at := r.EnrolledAt.UTC()
	p.rows = append(p.rows, Row{ExperimentID: r.ExperimentID, UserID: r.UserID, GroupName: r.Group, EnrolledAt: at})
	if err := p.cw.Write([]string{r.ExperimentID, r.UserID, r.Group, at.Format(CSVTime)}); err != nil {
		return err
	}
	if len(p.rows) == cap(p.rows) {
		return p.flushRows()
	}
	return nil
}

func (p *partition) flushRows() error {
	if len(p.rows) == 0 {
		return nil
	}
	_, err := p.pw.Write(p.rows)
	p.rows = p.rows[:0]
	return err
}

// close finishes both files and syncs them, so the rename that publishes
// them publishes complete files.
func (p *partition) close() error {
	err := p.flushRows()
	for _, f := range []func() error{
		p.pw.Close,
		func() error { p.cw.Flush(); return p.cw.Error() },
		p.cbuf.Flush,
		p.pf.Sync, p.cf.Sync, p.pf.Close, p.cf.Close,
	} {
		if e := f(); err == nil {
			err = e
		}
	}
	return err
}

func (p *partition) abort() {
	p.pf.Close()
	p.cf.Close()
}
