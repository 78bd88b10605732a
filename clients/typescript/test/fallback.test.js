// The enrollment's fallback: when assignd gives no decision (its 503, a
// network error, the timeout, a proxy's 5xx or a page that is not JSON) the
// caller's group comes back marked fallback; a 4xx and the caller's own abort
// still reject. The 503 is a real one: the test holds the only connection
// slot of the assignd started with -max-conns 1.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { connect, createServer as createTCPServer } from "node:net";
import { afterEach, before, beforeEach, describe, test } from "node:test";

import { AssignClient, AssignError, isUnavailable } from "../dist/index.js";
import { ADMIN_TOKEN, LIMITED_URL, journeys, needsServer, newID, userToken } from "./env.js";

/** Opens a raw connection to url's server and writes text on it. */
function rawConnection(url, text) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect({ host: hostname, port: Number(port) }, () => {
      sock.write(text);
      resolve(sock);
    });
    sock.once("error", reject);
  });
}

/** The status of GET /healthz on a connection of its own (fetch would reuse a kept-alive one). */
async function probeStatus(url) {
  const sock = await rawConnection(url, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  return new Promise((resolve) => {
    let head = "";
    sock.on("data", (d) => {
      head += d;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m) {
        sock.destroy();
        resolve(Number(m[1]));
      }
    });
    sock.on("error", () => resolve(0));
    sock.on("close", () => resolve(0));
  });
}

/**
 * Takes the only connection slot of the server at url (-max-conns 1): a
 * connection that sent half a request is busy, never idle, so every other
 * connection is answered the JSON 503. Returns once a probe on a connection
 * of its own gets that 503. A held connection that arrived while the slot
 * was still taken (by the previous test's, not yet seen closed) is itself
 * over the limit: then it is dropped and taken anew. The server's 5 s read
 * timeout ends a hold, so each test takes the slot anew.
 */
async function holdSlot(url) {
  for (let i = 0; i < 50; i++) {
    const sock = await rawConnection(url, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); // no blank line: the request never ends
    sock.on("error", () => {});
    await new Promise((r) => setTimeout(r, 20));
    if ((await probeStatus(url)) === 503) return sock;
    sock.destroy();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`could not take the only connection slot of ${url}`);
}

describe("fallback on assignd's 503", { ...needsServer, ...(LIMITED_URL ? {} : { skip: "no ASSIGN_LIMITED_URL" }) }, () => {
  const id = newID("limited");
  const tok = userToken("user-1");
  let held;
  before(async () => {
    const admin = new AssignClient({ baseUrl: LIMITED_URL, adminToken: ADMIN_TOKEN });
    await admin.createExperiment({ experiment_id: id, maximum_sample_size: 100, groups: journeys });
  });
  beforeEach(async () => {
    held = await holdSlot(LIMITED_URL);
  });
  afterEach(() => held?.destroy());

  test("with a fallback: the caller's group, marked, with assignd's error", async () => {
    const c = new AssignClient({ baseUrl: LIMITED_URL });
    const r = await c.enroll(tok, id, { fallback: "old_journey" });
    assert.equal(r.fallback, true);
    assert.equal(r.enrolled, false);
    assert.equal(r.group_name, "old_journey");
    assert.equal(r.experiment_id, id);
    assert.ok(r.error instanceof AssignError);
    assert.equal(r.error.status, 503);
    assert.equal(r.error.code, "unavailable");
    assert.equal(r.error.fallback, "default_experience");
    assert.equal(r.error.timedOut, false);
    assert.deepEqual(Object.keys(r.error.toJSON()).sort(), ["code", "fallback", "message"]);
  });

  test("without one: rejects with the 503", async () => {
    const c = new AssignClient({ baseUrl: LIMITED_URL, adminToken: ADMIN_TOKEN });
    await assert.rejects(c.enroll(tok, id), (err) => err instanceof AssignError && err.status === 503 && err.code === "unavailable" && err.fallback === "default_experience");
    // An admin call gets the same 503 (no fallback there).
    await assert.rejects(c.getExperiment(id), (err) => err instanceof AssignError && err.status === 503 && isUnavailable(err));
  });

  test("enrollMany: each id its fallback, or its error entry without one", async () => {
    const c = new AssignClient({ baseUrl: LIMITED_URL });
    const r = await c.enrollMany(tok, [id, "other"], { fallback: { [id]: "old_journey" } });
    assert.equal(r.length, 2);
    assert.equal(r[0].fallback, true);
    assert.equal(r[0].group_name, "old_journey");
    assert.equal(r[0].error.status, 503);
    assert.deepEqual(Object.keys(r[1]).sort(), ["error", "experiment_id"]);
    assert.equal(r[1].experiment_id, "other");
    assert.equal(r[1].error.code, "unavailable");
    const all = await c.enrollMany(tok, [id, "other"], { fallback: "control" });
    assert.deepEqual(all.map((e) => [e.experiment_id, e.group_name, e.fallback]), [[id, "control", true], ["other", "control", true]]);
    await assert.rejects(c.enrollMany(tok, [id]), (err) => err instanceof AssignError && err.status === 503);
  });

  test("once the slot is free, the real decision again", async () => {
    held.destroy();
    held = undefined;
    const c = new AssignClient({ baseUrl: LIMITED_URL });
    let r;
    for (let i = 0; i < 50; i++) {
      r = await c.enroll(tok, id, { fallback: "old_journey" });
      if (!r.fallback) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(r.fallback, undefined, JSON.stringify(r));
    assert.equal(r.enrolled, true);
  });
});

/** A local server for the failures assignd itself cannot produce: a proxy's page, a captive portal, silence. */
async function listen(server) {
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${server.address().port}`;
}

describe("fallback when no decision comes", () => {
  const tok = "any.token.here";

  test("a network error (nothing listens)", async () => {
    const s = createTCPServer();
    const url = await listen(s);
    await new Promise((r) => s.close(r));
    const r = await new AssignClient({ baseUrl: url }).enroll(tok, "e-1", { fallback: "control" });
    assert.equal(r.fallback, true);
    assert.equal(r.group_name, "control");
    assert.equal(r.error.status, 0);
    assert.equal(r.error.code, "unavailable");
    assert.equal(r.error.timedOut, false);
    assert.match(r.error.message, /cannot reach assignd/);
    await assert.rejects(new AssignClient({ baseUrl: url }).enroll(tok, "e-1"), (err) => err instanceof AssignError && err.status === 0);
  });

  test("the timeout: a server that never answers", async () => {
    const sockets = new Set();
    const s = createTCPServer((sock) => sockets.add(sock)); // accepts, reads, never answers
    const url = await listen(s);
    try {
      const c = new AssignClient({ baseUrl: url, enrollTimeoutMs: 200 });
      const t0 = Date.now();
      const r = await c.enroll(tok, "e-1", { fallback: "control" });
      const took = Date.now() - t0;
      assert.equal(r.fallback, true);
      assert.equal(r.error.timedOut, true);
      assert.equal(r.error.code, "unavailable");
      assert.match(r.error.message, /within 200 ms/);
      assert.ok(took >= 190 && took < 2000, `took ${took} ms`);
      // The call's own timeout wins over the client's.
      const t1 = Date.now();
      const r2 = await c.enroll(tok, "e-1", { fallback: "control", timeoutMs: 50 });
      assert.equal(r2.error.timedOut, true);
      assert.ok(Date.now() - t1 < 190, `took ${Date.now() - t1} ms`);
      // Admin calls have a timeout too.
      await assert.rejects(new AssignClient({ baseUrl: url, timeoutMs: 100 }).listExperiments(), (err) => err instanceof AssignError && err.timedOut);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => s.close(r));
    }
  });

  test("the caller's abort rejects, fallback or not", async () => {
    const sockets = new Set();
    const s = createTCPServer((sock) => sockets.add(sock));
    const url = await listen(s);
    try {
      const c = new AssignClient({ baseUrl: url });
      const ac = new AbortController();
      const p = c.enroll(tok, "e-1", { fallback: "control", signal: ac.signal });
      setTimeout(() => ac.abort(new Error("the user left the screen")), 50);
      await assert.rejects(p, /the user left the screen/);
      const already = AbortSignal.abort();
      await assert.rejects(c.enroll(tok, "e-1", { fallback: "control", signal: already }), (err) => err.name === "AbortError");
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => s.close(r));
    }
  });

  test("a proxy's 502 page, an HTML 200, a 500: fallback; a 4xx page: rejects", async () => {
    let answer = { status: 502, type: "text/html", body: "<html>bad gateway</html>" };
    const s = createServer((req, res) => {
      req.resume();
      res.writeHead(answer.status, { "Content-Type": answer.type });
      res.end(answer.body);
    });
    const url = await listen(s);
    try {
      const c = new AssignClient({ baseUrl: url, adminToken: "t" });
      let r = await c.enroll(tok, "e-1", { fallback: "control" });
      assert.equal(r.fallback, true);
      assert.equal(r.error.status, 502);
      assert.equal(r.error.code, "unavailable");
      assert.equal(r.error.message, "<html>bad gateway</html>");
      await assert.rejects(c.getExperiment("x"), (err) => err.status === 502 && err.code === "unavailable");

      answer = { status: 200, type: "text/html", body: "<html>sign in to the wifi</html>" };
      r = await c.enroll(tok, "e-1", { fallback: "control" });
      assert.equal(r.fallback, true);
      assert.equal(r.error.status, 200);

      answer = { status: 200, type: "application/json", body: '{"hello":"world"}' };
      r = await c.enroll(tok, "e-1", { fallback: "control" });
      assert.equal(r.fallback, true);

      answer = { status: 500, type: "application/json", body: '{"error":{"code":"internal","message":"Internal error.","fallback":"default_experience"}}' };
      r = await c.enroll(tok, "e-1", { fallback: "control" });
      assert.equal(r.fallback, true);
      assert.equal(r.error.code, "internal");

      // The multi-experiment form: an entry's 5xx error is that id's fallback;
      // an answer that does not have an entry per id is no decision at all.
      answer = {
        status: 200,
        type: "application/json",
        body: JSON.stringify({
          enrollments: [
            { experiment_id: "a", enrolled: true, group_name: "b" },
            { experiment_id: "b", error: { code: "unavailable", message: "The store is unavailable.", fallback: "default_experience" } },
            { experiment_id: "c", error: { code: "not_found", message: "Experiment not found." } },
          ],
        }),
      };
      const many = await c.enrollMany(tok, ["a", "b", "c"], { fallback: { a: "ca", b: "cb", c: "cc" } });
      assert.deepEqual(many[0], { experiment_id: "a", enrolled: true, group_name: "b" });
      assert.equal(many[1].fallback, true);
      assert.equal(many[1].group_name, "cb");
      assert.equal(many[1].error.status, 503);
      assert.equal(many[1].error.fallback, "default_experience");
      assert.deepEqual(many[2], { experiment_id: "c", error: { code: "not_found", message: "Experiment not found." } });
      const short = await c.enrollMany(tok, ["a", "b", "c", "d"], { fallback: "control" });
      assert.ok(short.every((e) => e.fallback === true && e.error.status === 200), JSON.stringify(short));

      answer = { status: 403, type: "text/html", body: "<html>forbidden</html>" };
      await assert.rejects(c.enroll(tok, "e-1", { fallback: "control" }), (err) => err.status === 403 && err.code === "unauthorized");
    } finally {
      await new Promise((r) => s.close(r));
    }
  });

  test("the request: method, path, headers, body", async () => {
    let seen;
    const s = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        seen = { method: req.method, url: req.url, headers: req.headers, body };
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end('{"experiment_id":"e/1","enrolled":true,"group_name":"b"}');
      });
    });
    const url = await listen(s);
    try {
      const c = new AssignClient({ baseUrl: url + "//", adminToken: "admin-tok", headers: { "X-Trace": "1" } });
      const e = await c.enroll("user-tok", "e-1");
      assert.deepEqual(e, { experiment_id: "e/1", enrolled: true, group_name: "b" });
      assert.equal(seen.method, "POST");
      assert.equal(seen.url, "/api/experiment-enrollments");
      assert.equal(seen.headers.authorization, "Bearer user-tok");
      assert.equal(seen.headers["content-type"], "application/json");
      assert.equal(seen.headers["x-trace"], "1");
      assert.equal(seen.body, '{"experiment_id":"e-1"}');

      await c.updateExperiment("a b/c", { status: "stopped" }).catch(() => {});
      assert.equal(seen.method, "PATCH");
      assert.equal(seen.url, "/api/experiments/a%20b%2Fc");
      assert.equal(seen.headers.authorization, "Bearer admin-tok");
      assert.equal(seen.body, '{"status":"stopped"}');

      await c.plan({ baseline: 0.1, effect: 0.02, probabilities: [0.2, 0.4, 0.4], relative: false }).catch(() => {});
      assert.equal(seen.method, "GET");
      assert.equal(seen.url, "/api/plan?baseline=0.1&effect=0.02&probabilities=0.2%2C0.4%2C0.4&relative=false");
      assert.equal(seen.headers["content-type"], undefined);
      assert.equal(seen.body, "");
    } finally {
      await new Promise((r) => s.close(r));
    }
  });
});
