import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ed25519Signer } from "../../src/audit/checkpoint.ts";
import { testKeys } from "../audit/fixtures.ts";
import { type Api, api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// An auditor's two ways to check the chain through the API: from the last signed checkpoint in one
// quick request, or the whole chain as a job they start and then poll.

describe("audit verify API", () => {
  let t: TestService;
  let auditor: Api;
  const signer = ed25519Signer(testKeys().privatePem);

  beforeAll(async () => {
    t = await startTestService({ auditCheckpoints: { everyRecords: 10, everySeconds: null, signer } });
    const admin = api(t.handler, ADMIN_KEY);
    auditor = api(t.handler, await t.keyFor(["auditor"]));
    const svc = api(t.handler, await t.keyFor(["service"]));
    await admin.post("/api/v1/policies", { tenant_id: "ver-a", primary_region: "eu-west" });
    for (let i = 0; i < 34; i++) {
      const res = await svc.post("/api/v1/access/resolve", {
        tenant_id: "ver-a",
        operation_type: "read",
        resource_type: "document",
        resource_id: `doc-${i}`,
      });
      expect(res.status).toBe(200);
    }
  });
  afterAll(() => t.close());

  it("verifies from the last signed checkpoint", async () => {
    const res = await auditor.get("/api/v1/audit/verify?from=checkpoint");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      ok: true,
      from: "checkpoint",
      first_broken_seq: null,
      rejected_checkpoints: [],
    });
    expect(res.body.checkpoint).toMatchObject({ signed: true, key_id: signer.keyId });
    expect(res.body.checked).toBe(res.body.head_seq - res.body.checkpoint.last_seq);
    expect(res.body.checked).toBeLessThan(10);
    expect((await auditor.get("/api/v1/audit/verify?from=seq-1")).status).toBe(400);
  });

  it("runs the full verification as a job: start, then poll to the end", async () => {
    const started = await auditor.post("/api/v1/audit/verify/jobs", {});
    expect(started.status).toBe(202);
    expect(started.headers.location).toBe(`/api/v1/audit/verify/jobs/${started.body.job_id}`);
    await t.service.verifyJobs.idle();
    const done = await auditor.get(started.headers.location!);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ state: "succeeded", ok: true, percent: 100, first_broken_seq: null });
    expect(done.body.checked).toBe(done.body.head_seq);
    expect(done.body.checkpoints_checked).toBe(Math.floor(done.body.head_seq / 10));
    expect((await auditor.get("/api/v1/audit/verify/jobs/nope")).status).toBe(404);
  });

  it("lists archives (none while everything is kept)", async () => {
    const res = await auditor.get("/api/v1/audit/archives");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], next_cursor: null });
    expect(await t.service.runRetention()).toEqual([]); // no retention configured: nothing to do
  });

  it("is for unscoped auditors only", async () => {
    const scoped = api(t.handler, await t.keyFor(["auditor"], ["ver-a"]));
    expect((await scoped.get("/api/v1/audit/verify?from=checkpoint")).status).toBe(403);
    expect((await scoped.post("/api/v1/audit/verify/jobs", {})).status).toBe(403);
    expect((await scoped.get("/api/v1/audit/archives")).status).toBe(403);
    const svc = api(t.handler, await t.keyFor(["service"]));
    expect((await svc.post("/api/v1/audit/verify/jobs", {})).status).toBe(403);
  });
});
