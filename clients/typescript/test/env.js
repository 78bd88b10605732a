// What the tests share: the running assignd that test.sh started (its URLs
// and credentials come in the environment) and user tokens signed for it.
import { createHmac, randomUUID } from "node:crypto";
import { test } from "node:test";

export const URL_ = process.env.ASSIGN_URL ?? "";
export const LIMITED_URL = process.env.ASSIGN_LIMITED_URL ?? "";
export const ADMIN_TOKEN = process.env.ASSIGN_ADMIN_TOKEN ?? "";
export const JWT_SECRET = process.env.ASSIGN_JWT_SECRET ?? "";

/** Whether test.sh started assignd; without it the tests skip loudly, or fail under CI=true. */
export const haveServer = URL_ !== "" && ADMIN_TOKEN !== "" && JWT_SECRET !== "";

if (!haveServer) {
  const msg = "ASSIGN_URL, ASSIGN_ADMIN_TOKEN and ASSIGN_JWT_SECRET are not set: run clients/typescript/test.sh, which starts assignd";
  if (process.env.CI === "true") {
    test("a running assignd", () => {
      throw new Error(msg);
    });
  } else {
    console.error("SKIPPING the tests against assignd: " + msg);
  }
}

/** The tests' options for a test that needs the running assignd. */
export const needsServer = haveServer ? {} : { skip: "no running assignd (see test.sh)" };

const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** An HS256 token for sub that the running assignd accepts, with extra claims. */
export function userToken(sub, claims = {}, { secret = JWT_SECRET, expiresIn = 3600 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url({ alg: "HS256", typ: "JWT" });
  const body = b64url({ sub, iat: now, exp: now + expiresIn, ...claims });
  const sig = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

/** An experiment id of this run (the servers live for one run, but a rerun by hand may reuse one). */
export function newID(prefix) {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export const journeys = [
  { group_name: "old_journey", probability_of_falling_in: 0.5 },
  { group_name: "new_journey", probability_of_falling_in: 0.5 },
];
