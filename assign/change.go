package assign

import "time"

// ExperimentChange is one version of an experiment's configuration as the
// warehouse's history (experiment_changes) keeps it: who set it and when,
// and What changed from the previous version, in words (filled by the
// server that answers GET /api/experiments/{id}/changes).
type ExperimentChange struct {
	Version             int64      `json:"version"`
	ChangedAt           time.Time  `json:"changed_at"`
	ChangedBy           string     `json:"changed_by"`
	Status              Status     `json:"status"`
	SamplingProbability float64    `json:"sampling_probability"`
	MaxSampleSize       int64      `json:"maximum_sample_size"`
	Groups              []Group    `json:"groups"`
	Eligibility         []Rule     `json:"eligibility"`
	Layer               string     `json:"layer"`
	Winner              string     `json:"winner"`
	StartAt             *time.Time `json:"start_at,omitempty"` // the schedule's bounds, nil for none
	EndAt               *time.Time `json:"end_at,omitempty"`
	What                []string   `json:"what"`
}
