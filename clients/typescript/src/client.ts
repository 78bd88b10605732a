import { AssignError, codeStatus, isUnavailable, responseError } from "./errors.js";
import type { paths } from "./openapi.js";
import type {
  CreateExperimentRequest,
  DailyEnrollments,
  Enrollment,
  EnrollmentBatch,
  EnrollmentBatchEntry,
  EnrollmentBatchError,
  EnrollmentBatchRequest,
  EnrollmentRequest,
  Experiment,
  ExperimentChanges,
  ExperimentCreated,
  ExperimentList,
  ExperimentProblem,
  ExperimentResults,
  ExperimentUpdate,
  LayerSplit,
  ListExperimentsQuery,
  Platform,
  Plan,
  PlanQuery,
  Readiness,
} from "./types.js";

/** The bound of an admin call when neither the client nor the call sets one (the Go client's DefaultTimeout). */
export const DEFAULT_TIMEOUT_MS = 30_000;
/**
 * The bound of an enrollment when neither the client nor the call sets one
 * (the Go client's DefaultEnrollTimeout): well above assignd's own deadline
 * (50 ms; 1 s on the embedded Redis of `make run`), short enough that a
 * screen never waits long for its experiment.
 */
export const DEFAULT_ENROLL_TIMEOUT_MS = 2_000;

export interface ClientOptions {
  /** The base URL of assignd, e.g. "https://assign.example.com". */
  baseUrl: string;
  /** Sent as "Authorization: Bearer" on the admin routes. */
  adminToken?: string;
  /** Bound of each admin call in milliseconds (0: none). Default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Bound of each enrollment in milliseconds (0: none). Default DEFAULT_ENROLL_TIMEOUT_MS. */
  enrollTimeoutMs?: number;
  /** The fetch to use; default globalThis.fetch (Node 18+, browsers). */
  fetch?: typeof globalThis.fetch;
  /** Headers sent with every request (a browser refuses some, such as User-Agent). */
  headers?: Record<string, string>;
  /**
   * The platform each enrollment records (web, ios, android, other), sent as
   * the body's `platform`; a `platform` claim of the user's token wins over
   * it. Both forms send it.
   */
  platform?: Platform;
}

export interface CallOptions {
  /** Bound of this call in milliseconds (0: none), instead of the client's. */
  timeoutMs?: number;
  /** Ends the call when aborted; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface EnrollOptions extends CallOptions {
  /** The platform this enrollment records, instead of the client's. */
  platform?: Platform;
  /**
   * The group to show when assignd gives no decision (a network error, the
   * timeout, a 5xx such as the 503 of an outage): usually the control. With
   * it, enroll resolves to a FallbackEnrollment instead of rejecting.
   */
  fallback?: string;
}

/**
 * What enroll answers with a fallback when assignd gave no decision: the
 * caller's group, not recorded anywhere (the user is not a member, is not
 * counted, and may get a real decision on the next call).
 */
export interface FallbackEnrollment {
  experiment_id: string;
  enrolled: false;
  /** The caller's fallback group. */
  group_name: string;
  fallback: true;
  /** Why there is no decision. */
  error: AssignError;
}

/** enroll's answer with a fallback: assignd's decision, or the fallback. */
export type EnrollResult = (Enrollment & { fallback?: never }) | FallbackEnrollment;

export interface EnrollManyOptions extends CallOptions {
  /** The platform these enrollments record, instead of the client's. */
  platform?: Platform;
  /**
   * The group to show for each experiment when assignd gives no decision for
   * it: one group for all, or one per experiment id (an id without one keeps
   * its error entry). With it, a whole call that fails as enroll's fallback
   * covers resolves to an entry per id instead of rejecting, and an entry
   * whose error is a 5xx (`unavailable`, `internal`) becomes a
   * FallbackEnrollment.
   */
  fallback?: string | Record<string, string>;
}

/** enrollMany's entry with a fallback: a decision, a fallback, or the id's error (a 4xx: unknown, malformed). */
export type EnrollManyResult = EnrollResult | EnrollmentBatchError;

/** An experiment of a listing: the experiment, or only its id and why it cannot be read. */
export type ListedExperiment = Experiment | ExperimentProblem;

// The routes the client calls; a route the document drops fails to compile.
const ROUTES = {
  enroll: "/api/experiment-enrollments",
  create: "/api/experiment-create",
  list: "/api/experiments",
  experiment: "/api/experiments/{id}",
  changes: "/api/experiments/{id}/changes",
  daily: "/api/experiments/{id}/daily-enrollments",
  results: "/api/experiments/{id}/results",
  layer: "/api/layers/{name}",
  plan: "/api/plan",
  readyz: "/readyz",
} as const satisfies Record<string, keyof paths>;

/**
 * A client of one assignd. Every method sends one request (allExperiments
 * one per page), bounded by a timeout, and rejects with an AssignError.
 */
export class AssignClient {
  readonly baseUrl: string;
  readonly adminToken: string | undefined;
  readonly timeoutMs: number;
  readonly enrollTimeoutMs: number;
  readonly platform: Platform | undefined;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly headers: Record<string, string>;

  constructor(options: ClientOptions) {
    if (!options || !options.baseUrl) throw new TypeError("AssignClient: baseUrl is required");
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.adminToken = options.adminToken;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.enrollTimeoutMs = options.enrollTimeoutMs ?? DEFAULT_ENROLL_TIMEOUT_MS;
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== "function") throw new TypeError("AssignClient: no fetch (Node 18+ or a browser, or pass options.fetch)");
    // Called unbound, a browser's fetch throws "Illegal invocation".
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = { ...options.headers };
    this.platform = options.platform;
  }

  /**
   * The decision for the user whose signed token userToken is (its `sub`) in
   * the experiment: sticky, the same on every call. Call it when the user
   * reaches the screen under test, and keep the answer for the session.
   *
   * Without `fallback`, any failure rejects with an AssignError. With it,
   * the failures where assignd gave no decision (no answer within the
   * timeout, a network error, a 5xx, a 2xx that is not a decision) resolve
   * to a FallbackEnrollment of that group; a 4xx (bad token, unknown
   * experiment, invalid id) still rejects, and so does the caller's own
   * abort signal.
   */
  enroll(userToken: string, experimentId: string, options: EnrollOptions & { fallback: string }): Promise<EnrollResult>;
  enroll(userToken: string, experimentId: string, options?: EnrollOptions): Promise<Enrollment>;
  async enroll(userToken: string, experimentId: string, options: EnrollOptions = {}): Promise<EnrollResult> {
    const body: EnrollmentRequest = { experiment_id: experimentId };
    const platform = options.platform ?? this.platform;
    if (platform !== undefined) body.platform = platform;
    try {
      const e = await this.request<Enrollment>("POST", ROUTES.enroll, userToken, body, options, this.enrollTimeoutMs);
      if (!isEnrollment(e)) {
        throw new AssignError({ status: 200, code: "internal", message: "the answer is not an enrollment" });
      }
      return e as EnrollResult;
    } catch (err) {
      if (options.fallback === undefined || !isUnavailable(err) || options.signal?.aborted) throw err;
      return { experiment_id: experimentId, enrolled: false, group_name: options.fallback, fallback: true, error: err as AssignError };
    }
  }

  /**
   * The decisions for one user in several experiments (a screen under
   * several tests) in one call: POST /api/experiment-enrollments with
   * {"experiment_ids": [...]} (1 to 50 distinct ids), one entry per id in the
   * same order, each the id's decision or its error entry
   * ({experiment_id, error: {code, message, field?, fallback?}}). The call
   * itself rejects only as enroll does (a bad token, a malformed list, no
   * answer); with `fallback`, see EnrollManyOptions.
   */
  enrollMany(
    userToken: string,
    experimentIds: readonly string[],
    options: EnrollManyOptions & { fallback: string | Record<string, string> },
  ): Promise<EnrollManyResult[]>;
  enrollMany(userToken: string, experimentIds: readonly string[], options?: EnrollManyOptions): Promise<EnrollmentBatchEntry[]>;
  async enrollMany(userToken: string, experimentIds: readonly string[], options: EnrollManyOptions = {}): Promise<EnrollManyResult[]> {
    const body: EnrollmentBatchRequest = { experiment_ids: [...experimentIds] };
    const platform = options.platform ?? this.platform;
    if (platform !== undefined) body.platform = platform;
    const fallbackOf = (id: string): string | undefined =>
      typeof options.fallback === "string" ? options.fallback : options.fallback?.[id];
    let entries: EnrollmentBatchEntry[];
    try {
      const answer = await this.request<EnrollmentBatch>("POST", ROUTES.enroll, userToken, body, options, this.enrollTimeoutMs);
      const list: unknown = (answer as { enrollments?: unknown } | null)?.enrollments;
      if (!Array.isArray(list) || list.length !== experimentIds.length) {
        throw new AssignError({ status: 200, code: "internal", message: `the answer is not ${experimentIds.length} enrollments` });
      }
      entries = list as EnrollmentBatchEntry[];
    } catch (err) {
      if (options.fallback === undefined || !isUnavailable(err) || options.signal?.aborted) throw err;
      const e = err as AssignError;
      return experimentIds.map((id) => {
        const group = fallbackOf(id);
        return group === undefined
          ? { experiment_id: id, error: e.toJSON() }
          : { experiment_id: id, enrolled: false, group_name: group, fallback: true, error: e };
      });
    }
    if (options.fallback === undefined) return entries as EnrollManyResult[];
    return entries.map((entry, i): EnrollManyResult => {
      if (!("error" in entry)) return entry as EnrollResult;
      const id = experimentIds[i] ?? entry.experiment_id;
      const group = fallbackOf(id);
      const status = codeStatus(entry.error.code);
      if (group === undefined || (status < 500 && entry.error.fallback === undefined)) return entry;
      const error = new AssignError({
        status,
        code: entry.error.code,
        message: entry.error.message,
        ...(entry.error.field !== undefined ? { field: entry.error.field } : {}),
        ...(entry.error.fallback !== undefined ? { fallback: entry.error.fallback } : {}),
      });
      return { experiment_id: id, enrolled: false, group_name: group, fallback: true, error };
    });
  }

  /** Creates an experiment (201) and returns its id: 409 `conflict` when it exists, 400 `invalid` naming the field. */
  async createExperiment(experiment: CreateExperimentRequest, options?: CallOptions): Promise<ExperimentCreated> {
    return this.admin<ExperimentCreated>("POST", ROUTES.create, experiment, options);
  }

  /** One experiment with its live stats; 404 `not_found` when it does not exist. */
  async getExperiment(id: string, options?: CallOptions): Promise<Experiment> {
    return this.admin<Experiment>("GET", ROUTES.experiment.replace("{id}", encodeURIComponent(id)), undefined, options);
  }

  /** One page of experiments in id order; `next` is the `after` of the following page ("" on the last). */
  async listExperiments(query: ListExperimentsQuery = {}, options?: CallOptions): Promise<ExperimentList> {
    return this.admin<ExperimentList>("GET", ROUTES.list + queryString(query), undefined, options);
  }

  /** Every experiment, following the listing's cursor, pageSize per request (0: the server's default). */
  async allExperiments(pageSize = 0, options?: CallOptions): Promise<ListedExperiment[]> {
    const all: ListedExperiment[] = [];
    let after = "";
    for (;;) {
      const page = await this.listExperiments({ ...(pageSize > 0 ? { limit: pageSize } : {}), ...(after ? { after } : {}) }, options);
      all.push(...page.experiments);
      // A cursor that does not move would loop forever on a broken server.
      if (page.next === "" || page.next === after) return all;
      after = page.next;
    }
  }

  /** Changes an experiment (PATCH) and returns it as it is after the change; the admin's name is recorded. */
  async updateExperiment(id: string, update: ExperimentUpdate, options?: CallOptions): Promise<Experiment> {
    return this.admin<Experiment>("PATCH", ROUTES.experiment.replace("{id}", encodeURIComponent(id)), update, options);
  }

  /** Pauses, resumes or stops an experiment. */
  async setStatus(id: string, status: NonNullable<ExperimentUpdate["status"]>, options?: CallOptions): Promise<Experiment> {
    return this.updateExperiment(id, { status }, options);
  }

  /** Makes group the winner every user gets from now on; "" undoes it. */
  async rollout(id: string, group: string, options?: CallOptions): Promise<Experiment> {
    return this.updateExperiment(id, { winner: group }, options);
  }

  /**
   * Every version of the experiment's configuration, oldest first, from the
   * warehouse (who changed it, when, and `what` changed in words); empty until
   * the exporter has written it.
   */
  async getChanges(id: string, options?: CallOptions): Promise<ExperimentChanges> {
    return this.admin<ExperimentChanges>("GET", ROUTES.changes.replace("{id}", encodeURIComponent(id)), undefined, options);
  }

  /** The experiment's enrollments in the warehouse per UTC day and group. */
  async getDailyEnrollments(id: string, options?: CallOptions): Promise<DailyEnrollments> {
    return this.admin<DailyEnrollments>("GET", ROUTES.daily.replace("{id}", encodeURIComponent(id)), undefined, options);
  }

  /**
   * The analysis of every metric of the metrics file assignd runs with
   * (-metrics-file), on the warehouse: 404 `not_found` before the experiment
   * reached it and on a server without a metrics file; 503 `unavailable` when
   * the warehouse cannot be read.
   */
  async getResults(id: string, options?: CallOptions): Promise<ExperimentResults> {
    return this.admin<ExperimentResults>("GET", ROUTES.results.replace("{id}", encodeURIComponent(id)), undefined, options);
  }

  /** How a layer's traffic slots are split between its experiments taking traffic. */
  async getLayer(name: string, options?: CallOptions): Promise<LayerSplit> {
    return this.admin<LayerSplit>("GET", ROUTES.layer.replace("{name}", encodeURIComponent(name)), undefined, options);
  }

  /** Users needed per group and in total for an effect, or the effect a maximum_sample_size can detect. */
  async plan(query: PlanQuery, options?: CallOptions): Promise<Plan> {
    return this.admin<Plan>("GET", ROUTES.plan + queryString(query), undefined, options);
  }

  /** GET /readyz: ready or degraded (resolves), unavailable (rejects with its 503). No token. */
  async ready(options?: CallOptions): Promise<Readiness> {
    return this.request<Readiness>("GET", ROUTES.readyz, undefined, undefined, options ?? {}, this.timeoutMs);
  }

  private admin<T>(method: string, path: string, body: unknown, options: CallOptions = {}): Promise<T> {
    return this.request<T>(method, path, this.adminToken, body, options, this.timeoutMs);
  }

  private async request<T>(
    method: string,
    path: string,
    token: string | undefined,
    body: unknown,
    options: CallOptions,
    defaultTimeoutMs: number,
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, timeoutMs)
        : undefined;
    const caller = options.signal;
    const onAbort = () => controller.abort(caller?.reason);
    if (caller) {
      if (caller.aborted) onAbort();
      else caller.addEventListener("abort", onAbort, { once: true });
    }
    const headers: Record<string, string> = { ...this.headers, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers["Authorization"] = "Bearer " + token;
    try {
      let status: number;
      let text: string;
      try {
        const res = await this.fetchImpl(this.baseUrl + path, {
          method,
          headers,
          signal: controller.signal,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        status = res.status;
        text = await res.text();
      } catch (err) {
        if (caller?.aborted) throw caller.reason ?? err;
        throw new AssignError({
          status: 0,
          code: "unavailable",
          message: timedOut
            ? `no answer from assignd at ${this.baseUrl} within ${timeoutMs} ms (${method} ${path})`
            : `cannot reach assignd at ${this.baseUrl} (${method} ${path}): ${errorText(err)}`,
          timedOut,
          cause: err,
        });
      }
      if (status < 200 || status > 299) throw responseError(status, text);
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        throw new AssignError({
          status,
          code: "internal",
          message: `${method} ${path} answered ${status} with a body that is not JSON`,
          cause: err,
        });
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      caller?.removeEventListener("abort", onAbort);
    }
  }
}

function isEnrollment(v: unknown): v is Enrollment {
  if (typeof v !== "object" || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e["experiment_id"] === "string" && typeof e["enrolled"] === "boolean";
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

/** "?k=v&..." of the defined parameters; arrays comma-separated (the API's form style). */
function queryString(query: object): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    q.set(k, Array.isArray(v) ? v.join(",") : String(v));
  }
  const s = q.toString();
  return s === "" ? "" : "?" + s;
}
