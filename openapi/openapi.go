// Package openapi holds the OpenAPI 3.1 description of assignd's HTTP API,
// served by the API itself at GET /openapi.json.
//
// The document is written by hand and held to the code by the tests of
// package http: every route of its routing table is documented and every
// documented path is routed, and the responses its tests record validate
// against the document's schemas.
//
// To document a new route: add its path item to openapi.json (a HEAD
// operation beside each GET the router answers HEAD for, with the GET's
// statuses and headers and no content; a unique operationId; security, with
// [] for none; every status the handler can answer, reusing
// components/responses), then run `go test ./http/` and `bash .ci/lint-openapi`,
// and regenerate the TypeScript client's types (`cd clients/typescript && npm ci &&
// npm run generate`): `go test ./client/` fails while they are stale.
package openapi

import _ "embed"

// Document is the OpenAPI 3.1 document, JSON.
//
//go:embed openapi.json
var Document []byte
