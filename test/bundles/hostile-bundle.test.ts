import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTarGz, writeTarGz } from "../../src/bundles/tar.ts";
import type { TestDb } from "../support/databases.ts";
import { api, serve, stopServing } from "../support/http.ts";
import { ADMIN_KEY, primaryBackend, startTestService, type TestService } from "../support/service.ts";
import { spinningDecision, spinningForVictim } from "./hostile-support.ts";
import { buildBundle, DECISION, FILE_BUNDLE, fileRevision, putBundle } from "./support.ts";

// A bundle_publisher is not trusted to publish code that ends: real Rego compiled by opa whose
// evaluation never ends is uploaded and dry-run while a loop of audited decisions runs over real
// HTTP. The candidate is refused within its budget (its code runs only in a worker), the loop keeps
// answering, and the suite prints the worst decision latency it saw. A bundle that passes every
// check but never ends for one tenant on the serving path is stopped per evaluation and retired by
// the watchdog, back to the last good bundle, audited. Then the other trust rules: a revision names
// one content (409), the catalog's shape (SPEC §11.A6), archive limits.

type Loop = { answered: number; failed: number; worstMs: number; stop(): Promise<void> };

/** Sequential decisions against `url` until stopped: how many answered, and the slowest. */
function decisionLoop(url: string, key: string): Loop {
  const loop = { answered: 0, failed: 0, worstMs: 0, stop: async () => undefined };
  let running = true;
  const done = (async () => {
    while (running) {
      const started = performance.now();
      const res = await fetch(`${url}/api/v1/access/resolve`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(DECISION),
      });
      await res.arrayBuffer();
      loop.worstMs = Math.max(loop.worstMs, performance.now() - started);
      if (res.status === 200) loop.answered++;
      else loop.failed++;
    }
  })();
  loop.stop = async () => {
    running = false;
    await done;
  };
  return loop;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe("hostile bundles", () => {
  const fileRev = fileRevision();
  let db: TestDb;
  let t: TestService;
  let url: string;
  let publisherKey: string;
  let serviceKey: string;
  const publisher = () => api(t.handler, publisherKey);

  async function auditRows(type: string) {
    const r = await db.query<{ payload: Record<string, unknown>; bundle_revision: string | null }>(
      "SELECT payload, bundle_revision FROM audit_log WHERE type = $1 ORDER BY seq",
      [type],
    );
    return r.rows;
  }

  beforeAll(async () => {
    db = await primaryBackend().create();
    t = await startTestService({
      db,
      // The defaults, spelled out: what the figures printed below were measured against.
      bundleEvaluationTimeoutMs: 250,
      bundleSandbox: { evaluationMs: 1_000, checkMs: 20_000, replayMs: 60_000 },
      bundleWatchdog: { strikes: 3, slowMs: 200, windowMs: 60_000 },
    });
    publisherKey = await t.keyFor(["bundle_publisher"]);
    serviceKey = await t.keyFor(["service"]);
    const admin = api(t.handler, ADMIN_KEY);
    expect(
      (
        await admin.post("/api/v1/policies", {
          tenant_id: DECISION.tenant_id,
          primary_region: "eu-west",
          compliance_frameworks: ["gdpr"],
        })
      ).status,
    ).toBe(201);
    url = await serve(t.handler);
  });

  afterAll(async () => {
    if (t) await stopServing(t.handler);
    await t?.close();
    await db?.close();
  });

  it("a never-ending candidate is refused within its budget, uploaded or dry-run, while decisions keep answering", async () => {
    const hostile = buildBundle("rev-hostile-spin", { edit: spinningDecision });
    const loop = decisionLoop(url, serviceKey);
    await until(() => loop.answered >= 20);
    const baselineWorst = loop.worstMs;
    const before = loop.answered;

    let started = performance.now();
    const upload = await putBundle(t.handler, publisherKey, hostile);
    const uploadMs = performance.now() - started;
    started = performance.now();
    const dryRun = await putBundle(t.handler, publisherKey, hostile, "?dry_run=true");
    const dryRunMs = performance.now() - started;
    const during = loop.answered - before;
    await loop.stop();

    expect(upload.status).toBe(422);
    expect(upload.body.error.details).toMatchObject({
      code: "BUNDLE_BUDGET_EXCEEDED",
      revision: "rev-hostile-spin",
      serving_revision: fileRev,
    });
    expect(upload.body.error.details.reason).toMatch(/an evaluation ran longer than its 1000 ms budget/);
    expect(dryRun.status).toBe(422);
    expect(dryRun.body.error.details).toMatchObject({ code: "BUNDLE_BUDGET_EXCEEDED" });
    expect(loop.failed).toBe(0);
    expect(during).toBeGreaterThan(0);
    expect((await publisher().get("/api/v1/bundles/active")).body.revision).toBe(fileRev);
    const rejected = (await auditRows("bundle.rejected")).map((r) => [r.payload.code, r.payload.source]);
    expect(rejected).toEqual([
      ["BUNDLE_BUDGET_EXCEEDED", "api"],
      ["BUNDLE_BUDGET_EXCEEDED", "dry_run"],
    ]);
    console.log(
      `never-ending candidate: upload refused after ${uploadMs.toFixed(0)} ms, dry run after ${dryRunMs.toFixed(0)} ms ` +
        `(evaluation budget 1,000 ms); ${during} decisions answered meanwhile, 0 failed; ` +
        `worst decision latency during the attempt ${loop.worstMs.toFixed(1)} ms (before it: ${baselineWorst.toFixed(1)} ms)`,
    );
  });

  it("a bundle that never ends for one tenant on the serving path is stopped per evaluation and retired by the watchdog", async () => {
    const victim = buildBundle("rev-hostile-victim", { edit: spinningForVictim });
    // No decision of that tenant was ever recorded, so no check can see it: it is activated.
    expect((await putBundle(t.handler, publisherKey, victim)).status).toBe(201);
    const loop = decisionLoop(url, serviceKey);
    await until(() => loop.answered >= 10);

    const answers: Array<{ status: number; revision?: string; code?: string; ms: number }> = [];
    const svc = api(t.handler, serviceKey);
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const res = await svc.post("/api/v1/access/resolve", { ...DECISION, tenant_id: "victim-tenant" });
      answers.push({
        status: res.status,
        revision: res.body.bundle_revision,
        code: res.body.reason?.code ?? res.body.error?.code,
        ms: Math.round(performance.now() - started),
      });
      if (res.status === 200) break;
    }
    await until(() => loop.answered >= 20);
    await loop.stop();

    // Stopped at the limit (503, fail closed) until the third strike retires the bundle; then the
    // last good bundle answers the same request.
    expect(answers.map((a) => a.status)).toEqual([503, 503, 503, 200]);
    expect(answers[0]!.code).toBe("POLICY_UNAVAILABLE");
    expect(answers[3]).toMatchObject({ revision: fileRev, code: "DENY_NO_POLICY" });
    expect(loop.failed).toBe(0);
    expect((await publisher().get("/api/v1/bundles/active")).body).toMatchObject({
      revision: fileRev,
      source: "watchdog",
    });
    // The retirement is recorded after the swap, which no decision waits for.
    const recordedFrom = performance.now();
    let history = (await publisher().get("/api/v1/bundles")).body;
    while (history.activations[0]?.source !== "watchdog" && performance.now() - recordedFrom < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      history = (await publisher().get("/api/v1/bundles")).body;
    }
    console.log(
      `retirement recorded ${(performance.now() - recordedFrom).toFixed(0)} ms after the swap was seen`,
    );
    expect(history.activations[0]).toMatchObject({
      revision: fileRev,
      previous_revision: "rev-hostile-victim",
      source: "watchdog",
      activated_by: "watchdog",
    });
    const [rollback] = await auditRows("bundle.rolled_back");
    expect(rollback).toMatchObject({
      bundle_revision: fileRev,
      payload: {
        reason: "watchdog",
        code: "BUNDLE_BUDGET_EXCEEDED",
        retired_revision: "rev-hostile-victim",
        strikes: 3,
        stopped: 3,
      },
    });
    const metrics = (await publisher().get("/metrics")).text;
    expect(metrics).toMatch(
      /residency_policy_evaluations_stopped_total\{entrypoint="residency\/decision"\} 3/,
    );
    console.log(
      `serving-path hang: victim decisions ${answers.map((a) => `${a.status} in ${a.ms} ms`).join(", ")}; ` +
        `other tenants: ${loop.answered} answered, 0 failed, worst latency ${loop.worstMs.toFixed(0)} ms (limit 250 ms per evaluation)`,
    );
  });

  it("a revision names one content: other bytes under a stored revision are refused with 409", async () => {
    const first = buildBundle("rev-identity");
    const other = buildBundle("rev-identity", { edit: spinningForVictim });
    expect((await putBundle(t.handler, publisherKey, first)).status).toBe(201);
    const res = await putBundle(t.handler, publisherKey, other);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: "CONFLICT",
      details: { code: "BUNDLE_REVISION_CONFLICT", revision: "rev-identity" },
    });
    // The same bytes again are no conflict; rollback by revision finds exactly one bundle.
    expect((await putBundle(t.handler, publisherKey, first)).status).toBe(200);
    const back = await publisher().post(`/api/v1/bundles/${fileRev}/activate`);
    expect(back.status).toBe(200);
    const stored = await db.query("SELECT count(*)::int AS n FROM bundles WHERE revision = 'rev-identity'");
    expect(Number(stored.rows[0]!.n)).toBe(1);
    const [conflict] = (await auditRows("bundle.rejected")).filter(
      (r) => r.payload.code === "BUNDLE_REVISION_CONFLICT",
    );
    expect(conflict!.payload).toMatchObject({ revision: "rev-identity", source: "api" });
  });

  const editCatalog = (change: (catalog: Array<Record<string, unknown>>) => void) => (regoDir: string) => {
    const file = join(regoDir, "reference/providers/data.json");
    const data = JSON.parse(readFileSync(file, "utf8"));
    change(data.catalog);
    writeFileSync(file, JSON.stringify(data, null, 2));
  };

  it('SPEC §11.A6: a catalog with trains_on_data "yes" or a geo route without destinations is refused at activation', async () => {
    const yes = buildBundle("rev-catalog-yes", {
      edit: editCatalog((c) => {
        c[1]!.trains_on_data = "yes";
      }),
    });
    const noDestinations = buildBundle("rev-catalog-geo", {
      edit: editCatalog((c) => {
        c.push({ ...c[0], provider: "geo-provider", route: "geo:eu", region: "eu-west", destinations: [] });
      }),
    });
    const r1 = await putBundle(t.handler, publisherKey, yes);
    expect(r1.status).toBe(422);
    expect(r1.body.error.code).toBe("POLICY_VIOLATION");
    expect(r1.body.error.details).toEqual([
      {
        code: "CATALOG_INVALID",
        index: 1,
        field: "trains_on_data",
        message: 'trains_on_data must be true or false when present, got "yes"',
      },
    ]);
    const r2 = await putBundle(t.handler, publisherKey, noDestinations);
    expect(r2.status).toBe(422);
    expect(r2.body.error.details).toMatchObject([{ code: "CATALOG_INVALID", field: "destinations" }]);
    expect((await publisher().get("/api/v1/bundles/active")).body.revision).toBe(fileRev);
    const rejected = (await auditRows("bundle.rejected")).filter((r) => r.payload.code === "CATALOG_INVALID");
    expect(rejected.map((r) => r.payload.revision)).toEqual(["rev-catalog-yes", "rev-catalog-geo"]);
  });

  it("an archive with too many entries is refused before it is unpacked further", async () => {
    const files = await readTarGz(readFileSync(FILE_BUNDLE));
    for (let i = 0; i < 1_000; i++) files.set(`padding/${i}.txt`, Buffer.alloc(0));
    const res = await putBundle(t.handler, publisherKey, await writeTarGz(files));
    expect(res.status).toBe(422);
    expect(res.body.error.details).toMatchObject({ code: "BUNDLE_TOO_LARGE" });
  });
});
