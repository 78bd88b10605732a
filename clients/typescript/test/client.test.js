// The client against the running assignd test.sh started: every call the
// client has, its answers, and its errors carrying the API's error object.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";

import { AssignClient, AssignError, isAssignError } from "../dist/index.js";
import { ADMIN_TOKEN, URL_, journeys, needsServer, newID, userToken } from "./env.js";

const client = () => new AssignClient({ baseUrl: URL_ + "/", adminToken: ADMIN_TOKEN, timeoutMs: 10_000, enrollTimeoutMs: 5_000 });

/** Asserts that promise rejects with an AssignError of that status and code (and field). */
async function rejectsWith(promise, status, code, field) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof AssignError, `not an AssignError: ${err}`);
    assert.equal(err.status, status, err.message);
    assert.equal(err.code, code, err.message);
    assert.equal(err.name, "AssignError");
    assert.ok(err.message.length > 0);
    if (field !== undefined) assert.equal(err.field, field);
    return true;
  });
}

describe("against assignd", needsServer, () => {
  test("the document assignd serves is the one the types are generated from", async () => {
    const served = await (await fetch(URL_ + "/openapi.json")).json();
    const file = JSON.parse(await readFile(new URL("../../../openapi/openapi.json", import.meta.url), "utf8"));
    assert.deepEqual(served, file);
  });

  test("ready", async () => {
    const r = await client().ready();
    assert.ok(r.status === "ready" || r.status === "degraded", JSON.stringify(r));
  });

  test("create, enroll, read, change, list: the life of an experiment", async (t) => {
    const c = client();
    const id = newID("ship");
    const created = await c.createExperiment({
      experiment_id: id,
      maximum_sample_size: 250,
      sampling_probability: 1,
      groups: journeys,
      eligibility: [{ claim: "first_order", equals: true }],
    });
    assert.deepEqual(created, { experiment_id: id });

    await t.test("a generated id", async () => {
      const { experiment_id } = await c.createExperiment({ maximum_sample_size: 10, groups: journeys });
      assert.match(experiment_id, /^[0-9a-f-]{36}$/);
    });

    await t.test("409 conflict when it exists", async () => {
      await rejectsWith(c.createExperiment({ experiment_id: id, maximum_sample_size: 10, groups: journeys }), 409, "conflict");
    });

    await t.test("400 names the field", async () => {
      await rejectsWith(
        c.createExperiment({ experiment_id: newID("bad"), maximum_sample_size: 0, groups: journeys }),
        400,
        "invalid",
        "maximum_sample_size",
      );
      await rejectsWith(
        c.createExperiment({ maximum_sample_size: 5, groups: [{ group_name: "a", probability_of_falling_in: 0.5 }, { group_name: "new\u202ejourney", probability_of_falling_in: 0.5 }] }),
        400,
        "invalid",
        "groups[1].group_name",
      );
    });

    let group;
    await t.test("enroll: sticky, and not_eligible without the claim", async () => {
      const tok = userToken("user-1", { first_order: true });
      const e1 = await c.enroll(tok, id);
      assert.equal(e1.experiment_id, id);
      assert.equal(e1.enrolled, true);
      assert.ok(["old_journey", "new_journey"].includes(e1.group_name), JSON.stringify(e1));
      group = e1.group_name;
      for (let i = 0; i < 3; i++) assert.deepEqual(await c.enroll(tok, id), e1);
      // With a fallback given, a decision is answered as it is (no fallback flag).
      assert.deepEqual(await c.enroll(tok, id, { fallback: "old_journey" }), e1);

      const no = await c.enroll(userToken("user-2"), id, { fallback: "old_journey" });
      assert.deepEqual(no, { experiment_id: id, enrolled: false, reason: "not_eligible" });
      assert.equal(no.fallback, undefined);
    });

    await t.test("enroll's 4xx reject, fallback or not", async () => {
      const tok = userToken("user-1", { first_order: true });
      await rejectsWith(c.enroll(tok, newID("nope")), 404, "not_found");
      await rejectsWith(c.enroll(tok, newID("nope"), { fallback: "old_journey" }), 404, "not_found");
      await rejectsWith(c.enroll(tok, "not an id!", { fallback: "old_journey" }), 400, "invalid", "experiment_id");
      await rejectsWith(c.enroll(userToken("user-1", {}, { secret: "another-secret-0123456789abcdef" }), id, { fallback: "old_journey" }), 401, "unauthorized");
      await rejectsWith(c.enroll(userToken("user-1", {}, { expiresIn: -60 }), id), 401, "unauthorized");
      // A sub that is not text: the token is authentic, the user id unusable.
      await rejectsWith(c.enroll(userToken("bad\u0000sub"), id), 400, "invalid", "sub");
    });

    await t.test("getExperiment: configuration and live stats", async () => {
      const e = await c.getExperiment(id);
      assert.equal(e.experiment_id, id);
      assert.equal(e.status, "running");
      assert.equal(e.version, 1);
      assert.equal(e.maximum_sample_size, 250);
      assert.deepEqual(e.groups, journeys);
      assert.deepEqual(e.eligibility, [{ claim: "first_order", equals: true }]);
      assert.deepEqual(e.stats, { enrolled: 1, remaining: 249, per_group: { ...{ old_journey: 0, new_journey: 0 }, [group]: 1 } });
      assert.ok(!Number.isNaN(Date.parse(e.created_at)));
      await rejectsWith(c.getExperiment(newID("nope")), 404, "not_found");
    });

    await t.test("updateExperiment, setStatus, rollout", async () => {
      let e = await c.setStatus(id, "paused");
      assert.equal(e.status, "paused");
      assert.equal(e.version, 2);
      assert.equal(e.updated_by, "ts");
      const paused = await c.enroll(userToken("user-3", { first_order: true }), id);
      assert.deepEqual(paused, { experiment_id: id, enrolled: false, reason: "not_running" });
      // A member keeps their group whatever the status.
      assert.equal((await c.enroll(userToken("user-1", { first_order: true }), id)).group_name, group);

      e = await c.updateExperiment(id, { status: "running", sampling_probability: 0.25, maximum_sample_size: 500 });
      assert.equal(e.status, "running");
      assert.equal(e.sampling_probability, 0.25);
      assert.equal(e.maximum_sample_size, 500);
      assert.equal(e.version, 3);

      e = await c.rollout(id, "new_journey");
      assert.equal(e.winner, "new_journey");
      assert.deepEqual(await c.enroll(userToken("user-1", { first_order: true }), id), { experiment_id: id, enrolled: true, group_name: "new_journey" });
      e = await c.rollout(id, "");
      assert.equal(e.winner, undefined);

      await rejectsWith(c.updateExperiment(id, {}), 400, "invalid");
      await rejectsWith(c.rollout(id, "no_such_group"), 400, "invalid", "winner");
      await rejectsWith(c.setStatus(newID("nope"), "stopped"), 404, "not_found");
    });
  });

  test("enrollMany: several experiments in one call, each entry its decision or its error", async () => {
    const c = client();
    const a = newID("screen-a"), b = newID("screen-b"), missing = newID("nope");
    await c.createExperiment({ experiment_id: a, maximum_sample_size: 100, groups: journeys });
    await c.createExperiment({ experiment_id: b, maximum_sample_size: 100, groups: journeys, eligibility: [{ claim: "country", in: ["fr", "de"] }] });
    const tok = userToken("user-many", { country: "it" });
    const got = await c.enrollMany(tok, [a, b, missing, "not an id!"]);
    assert.equal(got.length, 4);
    assert.equal(got[0].experiment_id, a);
    assert.equal(got[0].enrolled, true);
    assert.deepEqual(got[1], { experiment_id: b, enrolled: false, reason: "not_eligible" });
    assert.equal(got[2].experiment_id, missing);
    assert.equal(got[2].error.code, "not_found");
    assert.equal(got[3].error.code, "invalid");
    // The same decisions as the single form, and sticky.
    assert.deepEqual(await c.enroll(tok, a), got[0]);
    assert.deepEqual((await c.enrollMany(tok, [a]))[0], got[0]);
    // With a fallback, decisions and 4xx entries are as they are.
    assert.deepEqual(await c.enrollMany(tok, [a, b, missing, "not an id!"], { fallback: "old_journey" }), got);

    await rejectsWith(c.enrollMany(tok, []), 400, "invalid", "experiment_ids");
    await rejectsWith(c.enrollMany(tok, [a, a], { fallback: "old_journey" }), 400, "invalid", "experiment_ids[1]");
    await rejectsWith(c.enrollMany(userToken("u", {}, { expiresIn: -60 }), [a], { fallback: "old_journey" }), 401, "unauthorized");
  });

  test("platform: recorded from the client's option or the call's, the token's claim winning", async () => {
    const c = client();
    const id = newID("ios-only");
    await c.createExperiment({ experiment_id: id, maximum_sample_size: 100, groups: journeys, eligibility: [{ claim: "platform", equals: "ios" }] });
    const ios = new AssignClient({ baseUrl: URL_, platform: "ios" });
    const web = new AssignClient({ baseUrl: URL_, platform: "web" });
    assert.equal((await ios.enroll(userToken("p-1"), id)).enrolled, true);
    assert.deepEqual(await web.enroll(userToken("p-2"), id), { experiment_id: id, enrolled: false, reason: "not_eligible" });
    assert.equal((await web.enroll(userToken("p-3"), id, { platform: "ios" })).enrolled, true);
    // The token's claim wins over the body's field.
    assert.deepEqual(await ios.enroll(userToken("p-4", { platform: "android" }), id), { experiment_id: id, enrolled: false, reason: "not_eligible" });
    await rejectsWith(new AssignClient({ baseUrl: URL_, platform: "windows" }).enroll(userToken("p-5"), id, { fallback: "old_journey" }), 400, "invalid", "platform");
    // The multi-experiment form sends it too.
    assert.equal((await ios.enrollMany(userToken("p-6"), [id]))[0].enrolled, true);
    assert.deepEqual((await web.enrollMany(userToken("p-7"), [id]))[0], { experiment_id: id, enrolled: false, reason: "not_eligible" });
    assert.equal((await web.enrollMany(userToken("p-8"), [id], { platform: "ios" }))[0].enrolled, true);
    assert.deepEqual((await ios.enrollMany(userToken("p-9", { platform: "android" }), [id]))[0], { experiment_id: id, enrolled: false, reason: "not_eligible" });
  });

  test("QA overrides: the chosen group, marked override, never a member", async () => {
    const c = client();
    const id = newID("overrides");
    await c.createExperiment({ experiment_id: id, maximum_sample_size: 10, groups: journeys });
    let e = await c.updateExperiment(id, { overrides: { "qa-1": "new_journey", "qa-2": "old_journey" } });
    assert.deepEqual(e.overrides, { "qa-1": "new_journey", "qa-2": "old_journey" });
    assert.deepEqual(await c.enroll(userToken("qa-1"), id), { experiment_id: id, enrolled: true, group_name: "new_journey", override: true });
    const many = await c.enrollMany(userToken("qa-2"), [id]);
    assert.deepEqual(many[0], { experiment_id: id, enrolled: true, group_name: "old_journey", override: true });
    assert.equal((await c.getExperiment(id)).stats.enrolled, 0);

    e = await c.updateExperiment(id, { overrides: { "qa-1": null } });
    assert.deepEqual(e.overrides, { "qa-2": "old_journey" });
    const real = await c.enroll(userToken("qa-1"), id);
    assert.equal(real.override, undefined);
    assert.equal(real.enrolled, true);
    await rejectsWith(c.updateExperiment(id, { overrides: { "qa-3": "no_such_group" } }), 400, "invalid");
  });

  test("schedules: not_running before start_at, open once it is cleared", async () => {
    const c = client();
    const id = newID("scheduled");
    const start = new Date(Date.now() + 3600_000);
    start.setMilliseconds(0);
    await c.createExperiment({ experiment_id: id, maximum_sample_size: 10, groups: journeys, start_at: start.toISOString() });
    let e = await c.getExperiment(id);
    assert.equal(e.status, "running");
    assert.equal(e.effective_status, "scheduled");
    assert.equal(Date.parse(e.start_at), start.getTime());
    const tok = userToken("user-sched");
    assert.deepEqual(await c.enroll(tok, id), { experiment_id: id, enrolled: false, reason: "not_running" });

    e = await c.updateExperiment(id, { start_at: null });
    assert.equal(e.start_at, undefined);
    assert.equal(e.effective_status, "running");
    assert.equal((await c.enroll(tok, id)).enrolled, true);
  });

  test("the warehouse's history, daily enrollments and results", async () => {
    const c = client();
    const id = newID("warehouse");
    await c.createExperiment({ experiment_id: id, maximum_sample_size: 100, groups: journeys });
    for (let i = 0; i < 20; i++) {
      const sub = i % 2 === 0 ? `buyer-${id}-${i}` : `user-${id}-${i}`;
      assert.equal((await c.enroll(userToken(sub), id)).enrolled, true);
    }
    await c.updateExperiment(id, { maximum_sample_size: 200 });

    // The exporter writes within its flush interval (1 s).
    let changes, days;
    for (let i = 0; i < 150; i++) {
      changes = await c.getChanges(id);
      days = await c.getDailyEnrollments(id);
      if (changes.changes.length === 2 && days.days.length === 1 && days.days[0].enrolled === 20) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(changes.experiment_id, id);
    assert.equal(changes.changes.length, 2, JSON.stringify(changes));
    assert.equal(changes.changes[1].version, 2);
    assert.equal(changes.changes[1].changed_by, "ts");
    assert.equal(changes.changes[1].maximum_sample_size, 200);
    assert.ok(changes.changes[1].what.length > 0);
    assert.equal(days.days.length, 1, JSON.stringify(days));
    assert.equal(days.days[0].day, new Date().toISOString().slice(0, 10));
    assert.equal(Object.values(days.days[0].per_group).reduce((a, b) => a + b, 0), 20);

    const res = await c.getResults(id);
    assert.equal(res.experiment_id, id);
    assert.equal(res.correction, "none");
    assert.equal(res.metrics.length, 1);
    assert.equal(res.metrics[0].metric.name, "bought");
    assert.equal(res.metrics[0].error, undefined, res.metrics[0].error);

    // An experiment the warehouse has not seen has no history; a malformed id is a 404.
    const unknown = newID("nope");
    assert.deepEqual(await c.getChanges(unknown), { experiment_id: unknown, changes: [] });
    await rejectsWith(c.getDailyEnrollments("not an id!"), 404, "not_found");
    await rejectsWith(c.getResults(unknown), 404, "not_found");
  });

  test("listExperiments pages in id order; allExperiments follows the cursor", async () => {
    const c = client();
    const prefix = newID("list");
    const ids = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    for (const id of ids) await c.createExperiment({ experiment_id: id, maximum_sample_size: 5, groups: journeys });

    const first = await c.listExperiments({ limit: 2 });
    assert.equal(first.experiments.length, 2);
    assert.equal(first.next, first.experiments[1].experiment_id);
    const second = await c.listExperiments({ limit: 2, after: first.next });
    assert.ok(second.experiments[0].experiment_id > first.next);

    const all = await c.allExperiments(2);
    const listed = all.map((e) => e.experiment_id);
    assert.deepEqual(listed, [...listed].sort());
    for (const id of ids) assert.ok(listed.includes(id), `${id} not listed`);
    assert.equal(new Set(listed).size, listed.length, "an experiment listed twice");
    assert.deepEqual(
      (await c.allExperiments()).map((e) => e.experiment_id),
      listed,
    );

    await rejectsWith(c.listExperiments({ limit: 0 }), 400, "invalid", "limit");
  });

  test("getLayer: the layer's slots between its experiments", async () => {
    const c = client();
    const layer = newID("checkout");
    const a = newID("layered"), b = newID("layered");
    await c.createExperiment({ experiment_id: a, maximum_sample_size: 100, groups: journeys, layer });
    await c.createExperiment({ experiment_id: b, maximum_sample_size: 100, groups: journeys, layer });
    const split = await c.getLayer(layer);
    assert.equal(split.layer, layer);
    assert.deepEqual(Object.keys(split.slots).sort(), [a, b].sort());
    assert.equal(split.slots[a] + split.slots[b], 1000);
    assert.deepEqual((await c.getLayer(newID("empty"))).slots, {});
  });

  test("plan: the README's cap, a reverse plan, a bad parameter", async () => {
    const c = client();
    // +3.5 pp on 10.5%: 2,754 users (README).
    const p = await c.plan({ baseline: 0.105, effect: 0.035 });
    assert.equal(p.outcome, "binary");
    assert.equal(p.total, 2754);
    assert.equal(p.reverse, false);
    assert.equal(p.groups.length, 2);
    assert.equal(p.sd, null);

    const seq = await c.plan({ baseline: 0.105, effect: 0.035, method: "sequential" });
    assert.equal(seq.total, 5262);
    assert.ok(seq.sequential, JSON.stringify(seq));

    const three = await c.plan({ baseline: 0.1, effect: 0.02, probabilities: [0.2, 0.4, 0.4], sampling_probability: 0.5 });
    assert.deepEqual(three.groups.map((g) => g.probability), [0.2, 0.4, 0.4]);
    assert.equal(three.total_before_sampling, three.total * 2);

    const rev = await c.plan({ outcome: "numeric", baseline: 6.5, sd: 20, maximum_sample_size: 3000 });
    assert.equal(rev.reverse, true);
    assert.equal(rev.total, 3000);
    assert.ok(rev.effect > 0);

    const rel = await c.plan({ baseline: 0.11, effect: 0.2, relative: true });
    assert.ok(Math.abs(rel.effect - 0.022) < 1e-12, String(rel.effect));

    await rejectsWith(c.plan({ baseline: Number.NaN, effect: 0.1 }), 400, "invalid", "baseline");
  });

  test("admin calls without the right token: 401 unauthorized", async () => {
    const bad = new AssignClient({ baseUrl: URL_, adminToken: "wrong" });
    await rejectsWith(bad.listExperiments(), 401, "unauthorized");
    await rejectsWith(new AssignClient({ baseUrl: URL_ }).plan({ baseline: 0.1, effect: 0.02 }), 401, "unauthorized");
    const err = await bad.getExperiment("x").catch((e) => e);
    assert.ok(isAssignError(err, "unauthorized"));
    assert.deepEqual(Object.keys(err.toJSON()).sort(), ["code", "message"]);
  });
});
