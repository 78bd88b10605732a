package exporter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/redisstore"
	"github.com/assign-dev/assign/scripts"
	"github.com/assign-dev/assign/warehouse"
)

// parseEvent appends the row of one stream entry, in the format documented
// in redisstore/keys.go.
func parseEvent(keys redisstore.Keys, stream string, v map[string]any, enr *[]warehouse.EnrollmentRow, exps *[]warehouse.ExperimentRow) error {
	str := func(f string) string { s, _ := v[f].(string); return s }
	ts, err := strconv.ParseInt(str(redisstore.EventTime), 10, 64)
	if err != nil {
		return fmt.Errorf("field %s: %w", redisstore.EventTime, err)
	}
	at := time.UnixMilli(ts).UTC()
	switch t := str(redisstore.EventType); t {
	case redisstore.EventEnroll:
		id, err := ExperimentID(keys, stream)
		if err != nil {
			return err
		}
		user, group := str(redisstore.EventUser), str(redisstore.EventGroup)
		if user == "" || group == "" {
			return fmt.Errorf("enroll event without user or group")
		}
		*enr = append(*enr, warehouse.EnrollmentRow{ExperimentID: id, UserID: user, Group: group, EnrolledAt: at,
			Override: str(redisstore.EventOverride) == scripts.ArgTrue, Platform: str(redisstore.EventPlatform)})
	case redisstore.EventConfig:
		var x assign.Experiment
		if err := json.Unmarshal([]byte(str(redisstore.EventExperiment)), &x); err != nil {
			return fmt.Errorf("config event: %w", err)
		}
		if x.ID == "" {
			if x.ID, err = ExperimentID(keys, stream); err != nil {
				return err
			}
		}
		*exps = append(*exps, warehouse.NewExperimentRow(&x, str(redisstore.EventBy), at))
	default:
		return fmt.Errorf("unknown event type %q", t)
	}
	return nil
}

// ExperimentID returns the id of the experiment whose event stream is
// stream, under keys' namespace: the inverse of
// redisstore.EventsKey(keys.Prefix(id, layer)). Ids and layers cannot hold
// '{', '}' or ':', so the key parses unambiguously.
func ExperimentID(keys redisstore.Keys, stream string) (string, error) {
	s, ok := strings.CutPrefix(stream, keys.Namespace)
	if ok {
		s, ok = strings.CutSuffix(s, ":events")
	}
	if ok {
		if id, found := strings.CutPrefix(s, "{exp:"); found {
			id, ok = strings.CutSuffix(id, "}")
			if ok && id != "" && !strings.ContainsAny(id, "{}:") {
				return id, nil
			}
		} else if rest, found := strings.CutPrefix(s, "{layer:"); found {
			if i := strings.Index(rest, "}:"); i > 0 {
				id := rest[i+2:]
				if id != "" && !strings.ContainsAny(id, "{}:") {
					return id, nil
				}
			}
		}
	}
	return "", fmt.Errorf("stream key %q is not an experiment's event stream", stream)
}

// enrollmentFields returns the fields of the enrollment event a row was
// read from, for its dead letter.
func enrollmentFields(r *warehouse.EnrollmentRow) map[string]any {
	f := map[string]any{
		redisstore.EventType:  redisstore.EventEnroll,
		redisstore.EventUser:  r.UserID,
		redisstore.EventGroup: r.Group,
		redisstore.EventTime:  strconv.FormatInt(r.EnrolledAt.UnixMilli(), 10),
	}
	if r.Override {
		f[redisstore.EventOverride] = scripts.ArgTrue
	}
	if r.Platform != "" {
		f[redisstore.EventPlatform] = r.Platform
	}
	return f
}

// experimentFields is enrollmentFields for a configuration event.
func experimentFields(r *warehouse.ExperimentRow) map[string]any {
	js, err := json.Marshal(r.Experiment())
	if err != nil {
		js = []byte(fmt.Sprintf("%q", err.Error()))
	}
	return map[string]any{
		redisstore.EventType:       redisstore.EventConfig,
		redisstore.EventExperiment: string(js),
		redisstore.EventBy:         r.UpdatedBy,
		redisstore.EventTime:       strconv.FormatInt(r.UpdatedAt.UnixMilli(), 10),
	}
}
