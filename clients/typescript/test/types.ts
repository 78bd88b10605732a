// Compile-time checks of the client's types (tsc -p test/tsconfig.json, run
// by test.sh; nothing here runs): the generated types reach the client's
// signatures, narrow as the API's oneOf says, and refuse what the document
// refuses.
import { AssignClient, type EnrollResult, type Enrollment, type Experiment, type Plan } from "../src/index.js";

declare const c: AssignClient;

export async function checks(): Promise<void> {
  const e: Enrollment = await c.enroll("token", "e-1");
  if (e.enrolled) {
    const group: string = e.group_name;
    void group;
  } else {
    const reason: "not_sampled" | "sample_full" | "not_eligible" | "not_running" = e.reason;
    void reason;
  }

  // With a fallback: a decision or the fallback, told apart by `fallback`;
  // the group to show is group_name whenever there is one.
  const r: EnrollResult = await c.enroll("token", "e-1", { fallback: "control", timeoutMs: 500 });
  const show: string = r.enrolled || r.fallback ? r.group_name : "control";
  void show;
  if (r.fallback) {
    const status: number = r.error.status;
    void status;
  }

  const many = await c.enrollMany("token", ["a", "b"]);
  for (const entry of many) {
    if ("error" in entry) {
      const code: string = entry.error.code;
      void code;
    } else if (entry.enrolled) {
      const group: string = entry.group_name;
      void group;
    }
  }
  const withFallback = await c.enrollMany("token", ["a", "b"], { fallback: { a: "control" } });
  for (const entry of withFallback) {
    const show: string = "error" in entry ? "control" : entry.enrolled || entry.fallback ? entry.group_name : "control";
    void show;
  }

  const x: Experiment = await c.getExperiment("e-1");
  const v: number = x.version;
  void v;
  const p: Plan = await c.plan({ baseline: 0.1, effect: 0.02, probabilities: [0.5, 0.5] });
  const total: number = p.total;
  void total;

  // @ts-expect-error a platform is one of web, ios, android, other
  new AssignClient({ baseUrl: "x", platform: "windows" });
  // @ts-expect-error maximum_sample_size and groups are required
  await c.createExperiment({ experiment_id: "e-1" });
  // @ts-expect-error an unknown field is refused, as the server refuses it
  await c.createExperiment({ maximum_sample_size: 1, groups: [], nope: 1 });
  // @ts-expect-error the status is one of running, paused, stopped
  await c.setStatus("e-1", "done");
  // @ts-expect-error not a plan parameter
  await c.plan({ baseline: 0.1, lift: 0.2 });
}
