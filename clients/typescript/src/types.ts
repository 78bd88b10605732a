// The API's types under short names. Every one is an alias into
// src/openapi.ts, which scripts/generate.mjs generates from
// openapi/openapi.json: a field added to the document reaches these types by
// regenerating, never by editing this file.
import type { components, operations } from "./openapi.js";

type Schemas = components["schemas"];
type Query<Op extends keyof operations> = NonNullable<operations[Op]["parameters"]["query"]>;

/** The decision for one user in one experiment: enrolled in a group, or not with a reason. */
export type Enrollment = Schemas["Enrollment"];
/** The body of an enrollment. */
export type EnrollmentRequest = Schemas["EnrollmentRequest"];
/** The client's platform an enrollment records: web, ios, android, other. */
export type Platform = NonNullable<EnrollmentRequest["platform"]>;
/** The multi-experiment form of an enrollment's body: {"experiment_ids": [...]}, 1 to 50 distinct ids. */
export type EnrollmentBatchRequest = Schemas["EnrollmentBatchRequest"];
/** The multi-experiment form's answer: one entry per id, in the order asked. */
export type EnrollmentBatch = Schemas["EnrollmentBatch"];
/** An entry of the multi-experiment answer: the id's decision, or its error. */
export type EnrollmentBatchEntry = EnrollmentBatch["enrollments"][number];
/** The error entry of one id in the multi-experiment answer. */
export type EnrollmentBatchError = Schemas["EnrollmentBatchError"];
/** The body of POST /api/experiment-create. */
export type CreateExperimentRequest = Schemas["CreateExperimentRequest"];
/** The answer of POST /api/experiment-create. */
export type ExperimentCreated = Schemas["ExperimentCreated"];
/** An experiment as GET /api/experiments/{id} and PATCH answer it. */
export type Experiment = Schemas["Experiment"];
/** An experiment of a listing whose stored configuration cannot be read. */
export type ExperimentProblem = Schemas["ExperimentProblem"];
/** One page of GET /api/experiments. */
export type ExperimentList = Schemas["ExperimentList"];
/** The body of PATCH /api/experiments/{id}: the fields to change. */
export type ExperimentUpdate = Schemas["ExperimentUpdate"];
export type ExperimentStats = Schemas["ExperimentStats"];
export type Group = Schemas["Group"];
export type Rule = Schemas["Rule"];
export type Status = Schemas["Status"];
/** One version of an experiment's configuration in the warehouse's history: who, when, what changed. */
export type ExperimentChange = Schemas["ExperimentChange"];
/** GET /api/experiments/{id}/changes: every version, oldest first. */
export type ExperimentChanges = Schemas["ExperimentChanges"];
/** GET /api/experiments/{id}/daily-enrollments: enrollments per UTC day and group. */
export type DailyEnrollments = Schemas["DailyEnrollments"];
/** GET /api/experiments/{id}/results: the analysis of each metric of assignd's metrics file. */
export type ExperimentResults = Schemas["ExperimentResults"];
/** GET /api/layers/{name}: the layer's traffic slots per experiment. */
export type LayerSplit = Schemas["LayerSplit"];
/** The answer of GET /api/plan. */
export type Plan = Schemas["Plan"];
export type PlanGroup = Schemas["PlanGroup"];
/** The query parameters of GET /api/plan. */
export type PlanQuery = Query<"plan">;
/** The query parameters of GET /api/experiments. */
export type ListExperimentsQuery = Query<"listExperiments">;
/** GET /readyz's answer. */
export type Readiness = Schemas["Readiness"];
/** The error body every route answers: {"error": {code, message, field?, fallback?}}. */
export type ErrorBody = Schemas["Error"];
/** The error object inside the error body. */
export type ErrorObject = ErrorBody["error"];
/** The machine-readable error codes, each with one HTTP status. */
export type ErrorCode = Schemas["ErrorCode"];

export type { components, operations, paths } from "./openapi.js";
