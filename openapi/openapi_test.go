package openapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/assign-dev/assign/openapi"
)

// TestDocument: the embedded document is a JSON OpenAPI 3.1 document. The
// http package's tests hold it to the routes and their answers.
func TestDocument(t *testing.T) {
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openapi.Document, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Fatalf("openapi=%q, want 3.1.x", doc.OpenAPI)
	}
	if len(doc.Paths) == 0 {
		t.Fatal("no paths")
	}
}
