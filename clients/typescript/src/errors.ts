import type { ErrorCode, ErrorObject } from "./types.js";

/**
 * A failed call. When assignd answered, `status` is the HTTP status and
 * `code`, `message`, `field` and `fallback` are its error object
 * (`{"error": {code, message, field?, fallback?}}`); an answer that is not
 * the API's JSON (a proxy's HTML page) gets the code its status stands for.
 * When no answer came (a network error, or the call's timeout), `status` is
 * 0 and `code` is `"unavailable"`, as in the Go client.
 */
export class AssignError extends Error {
  override readonly name = "AssignError";
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The API's error code (`invalid`, `not_found`, `unavailable`, ...). */
  readonly code: ErrorCode | (string & {});
  /** The field at fault of a 400 `invalid`, when there is one. */
  readonly field?: string;
  /** The server's advice on an enrollment's 5xx: `"default_experience"`. */
  readonly fallback?: string;
  /** True when the call's timeout ended it before an answer came. */
  readonly timedOut: boolean;

  constructor(init: {
    status: number;
    code: ErrorCode | (string & {});
    message: string;
    field?: string;
    fallback?: string;
    timedOut?: boolean;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    if (init.field !== undefined) this.field = init.field;
    if (init.fallback !== undefined) this.fallback = init.fallback;
    this.timedOut = init.timedOut ?? false;
  }

  /** The error object as the API sends it. */
  toJSON(): ErrorObject {
    const o: ErrorObject = { code: this.code as ErrorCode, message: this.message };
    if (this.field !== undefined) o.field = this.field;
    if (this.fallback !== undefined) o.fallback = this.fallback as NonNullable<ErrorObject["fallback"]>;
    return o;
  }
}

/** Whether err is an AssignError, optionally of the given code. */
export function isAssignError(err: unknown, code?: ErrorCode): err is AssignError {
  return err instanceof AssignError && (code === undefined || err.code === code);
}

/**
 * Whether assignd gave no decision: no answer (a network error or the
 * timeout), a 5xx, or a 2xx that is not the expected JSON (a captive portal).
 * These are the failures an enrollment's fallback covers; a 4xx is an error
 * of the request (a bad token, an unknown experiment) and is thrown.
 */
export function isUnavailable(err: unknown): boolean {
  return err instanceof AssignError && (err.status === 0 || err.status >= 500 || (err.status >= 200 && err.status < 300));
}

/** The code of an answer without the API's JSON error body, by its status (as the Go client's). */
export function statusCode(status: number): ErrorCode {
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 502 || status === 503 || status === 504) return "unavailable";
  if (status >= 400 && status < 500) return "invalid";
  return "internal";
}

/** The HTTP status of each of the API's error codes (ErrorCode's table). */
export function codeStatus(code: string): number {
  switch (code) {
    case "invalid":
    case "bad_request":
      return 400;
    case "unauthorized":
      return 401;
    case "not_found":
    case "no_route":
      return 404;
    case "method_not_allowed":
      return 405;
    case "timeout":
      return 408;
    case "conflict":
      return 409;
    case "too_large":
      return 413;
    case "unsupported_media_type":
      return 415;
    case "header_too_large":
      return 431;
    case "unavailable":
      return 503;
  }
  return 500;
}

/** The error of a non-2xx answer, from the API's error body when it is one. */
export function responseError(status: number, body: string): AssignError {
  try {
    const parsed: unknown = JSON.parse(body);
    const e = (parsed as { error?: unknown } | null)?.error as
      | { code?: unknown; message?: unknown; field?: unknown; fallback?: unknown }
      | undefined;
    if (e && typeof e === "object" && typeof e.code === "string" && e.code !== "") {
      return new AssignError({
        status,
        code: e.code,
        message: typeof e.message === "string" ? e.message : "",
        ...(typeof e.field === "string" ? { field: e.field } : {}),
        ...(typeof e.fallback === "string" ? { fallback: e.fallback } : {}),
      });
    }
  } catch {
    // not JSON: below
  }
  let message = body.trim();
  if (message.length > 200) message = message.slice(0, 200) + "…";
  if (message === "") message = `HTTP ${status}`;
  return new AssignError({ status, code: statusCode(status), message });
}
