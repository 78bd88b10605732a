// @assign/client: a TypeScript client of assignd's JSON API.
export {
  AssignClient,
  DEFAULT_ENROLL_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  type CallOptions,
  type ClientOptions,
  type EnrollManyOptions,
  type EnrollManyResult,
  type EnrollOptions,
  type EnrollResult,
  type FallbackEnrollment,
  type ListedExperiment,
} from "./client.js";
export { AssignError, isAssignError, isUnavailable } from "./errors.js";
export type * from "./types.js";
