import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, stopChild, waitForHttp } from "../../scripts/lib/local-server.ts";
import { type LoadedBundle, loadBundle } from "../../src/bundles/candidate.ts";
import type { Entrypoint } from "../../src/domain/policy-contract.ts";
import { type Api, api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// The differential check: the same inputs through OPA's own interpreter (`opa run --server` on
// rego/, on a loopback port) and through the built wasm the service serves must give identical
// answers — whole results, every field. The inputs are the golden cases and the decisions a test
// service recorded in its audit log (request + evaluation = exactly what the bundle saw).

const opaBin = join(execFileSync("go", ["env", "GOPATH"], { encoding: "utf8" }).trim(), "bin", "opa");

type GoldenCase = { name: string; entrypoint: Entrypoint; input: unknown; data?: unknown };
const golden = (JSON.parse(readFileSync("golden/data.json", "utf8")) as { golden: { cases: GoldenCase[] } })
  .golden.cases;

describe("differential: opa run --server and the wasm answer alike", () => {
  let opa: ChildProcess;
  let base: string;
  let bundle: LoadedBundle;
  let t: TestService;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    opa = spawn(
      opaBin,
      [
        "run",
        "--server",
        "--skip-version-check",
        "--log-level",
        "error",
        "--addr",
        `127.0.0.1:${port}`,
        "rego",
      ],
      {
        stdio: "ignore",
      },
    );
    bundle = await loadBundle(readFileSync("bundles/residency.tar.gz"));
    t = await startTestService();
    await waitForHttp(`${base}/health`, { accept: (s) => s === 200 });
  });
  afterAll(async () => {
    await stopChild(opa);
    await t?.close();
  });

  async function viaOpa(entrypoint: Entrypoint, input: unknown): Promise<unknown> {
    const res = await fetch(`${base}/v1/data/${entrypoint}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { result: unknown }).result;
  }

  async function compare(cases: Array<{ name: string; entrypoint: Entrypoint; input: unknown }>) {
    const differing: string[] = [];
    for (const c of cases) {
      const interpreted = await viaOpa(c.entrypoint, c.input);
      const compiled = bundle.evaluate(c.entrypoint, c.input, { fresh: true });
      if (JSON.stringify(sorted(interpreted)) !== JSON.stringify(sorted(compiled))) differing.push(c.name);
    }
    return differing;
  }

  it("on every golden case that runs on the shipped bundle data", async () => {
    const cases = golden.filter((c) => c.data === undefined);
    expect(cases.length).toBeGreaterThan(100);
    expect(await compare(cases)).toEqual([]);
  });

  it("on decisions recorded in the audit log of a test service", async () => {
    const admin: Api = api(t.handler, ADMIN_KEY);
    const svc: Api = api(t.handler, await t.keyFor(["service"]));
    const policies = [
      {
        tenant_id: "d-gdpr",
        primary_region: "eu-west",
        allowed_regions: ["us-east"],
        compliance_frameworks: ["gdpr"],
        transfer_mechanisms: { dpf: ["us-east"], scc_tia: [{ provider: "openai", regions: ["us-east"] }] },
      },
      {
        tenant_id: "d-ferpa",
        primary_region: "us-east",
        allowed_regions: ["us-west", "ca-central"],
        compliance_frameworks: ["ferpa"],
        allow_cross_region_failover: true,
      },
      {
        tenant_id: "d-ferpa",
        learner_id: "kid",
        compliance_frameworks: ["coppa"],
        learner_age: 9,
        data_retention_days: 365,
        consents: { school_authorization: true },
      },
      {
        tenant_id: "d-dpdp",
        primary_region: "apac-south",
        compliance_frameworks: ["dpdp"],
        dpdp_education_exemption: true,
      },
      { tenant_id: "d-dpdp", learner_id: "teen", learner_age: 16, consents: { parental_consent: true } },
      {
        tenant_id: "d-appi",
        primary_region: "apac-east",
        compliance_frameworks: ["appi"],
        transfer_mechanisms: { appi_consent: true },
      },
      { tenant_id: "d-appi", learner_id: "minor", learner_age: 14 },
      {
        tenant_id: "d-uk",
        primary_region: "eu-west",
        compliance_frameworks: ["uk_gdpr"],
        transfer_mechanisms: { uk_extension: ["us-east"], idta: ["apac-south"] },
      },
    ];
    for (const p of policies) expect((await admin.post("/api/v1/policies", p)).status).toBe(201);
    const access = (tenant: string, body: Record<string, unknown>) =>
      svc.post("/api/v1/access/resolve", {
        tenant_id: tenant,
        resource_type: "document",
        resource_id: "r",
        ...body,
      });
    const inference = (tenant: string, body: Record<string, unknown>) =>
      svc.post("/api/v1/inference/route", { tenant_id: tenant, operation_type: "inference", ...body });
    const regions = ["us-east", "us-west", "eu-west", "eu-central", "apac-south", "apac-east", "ca-central"];
    for (const tenant of ["d-gdpr", "d-ferpa", "d-dpdp", "d-appi", "d-uk"]) {
      for (const requested_region of regions) {
        await access(tenant, { operation_type: "replicate", requested_region });
      }
      await access(tenant, { operation_type: "write", purpose: "emotion_recognition" });
      await access(tenant, { operation_type: "delete", data_locations: ["us-west"] });
      for (const model_type of ["claude-3-haiku", "claude-3-sonnet", "gpt-4o", "titan-text"]) {
        await inference(tenant, { model_type, purpose: "assessment" });
      }
    }
    await access("d-ferpa", { learner_id: "kid", operation_type: "write", purpose: "targeted_advertising" });
    await inference("d-ferpa", {
      learner_id: "kid",
      model_type: "claude-3-haiku",
      operation_type: "training",
    });
    await access("d-dpdp", { learner_id: "teen", operation_type: "index", purpose: "progress_monitoring" });
    await access("d-dpdp", { learner_id: "teen", operation_type: "write", purpose: "instruction" });
    await access("d-appi", { learner_id: "minor", operation_type: "replicate", requested_region: "us-west" });
    await inference("d-appi", { learner_id: "minor", model_type: "gpt-4o" });
    const operator = api(t.handler, await t.keyFor(["operator"]));
    await operator.put("/api/v1/regions/us-east/health", { status: "unavailable" });
    await access("d-ferpa", { operation_type: "write" });
    await inference("d-ferpa", { model_type: "claude-3-haiku" });
    await inference("d-ferpa", { model_type: "claude-3-haiku", requested_region: "us-east" });
    await operator.put("/api/v1/regions/us-east/health", { status: "healthy" });

    const rows = (
      await t.db.query<{
        seq: number;
        type: string;
        payload: { request: unknown; evaluation: Record<string, unknown> };
      }>(
        "SELECT seq, type, payload FROM audit_log WHERE type IN ('decision.access', 'decision.inference') ORDER BY seq",
      )
    ).rows;
    expect(rows.length).toBeGreaterThanOrEqual(70);
    // A replay worth the name: many outcomes, not one answer repeated.
    const codes = new Set(
      rows.map((r) => (r.payload as unknown as { decision: { reason_code: string } }).decision.reason_code),
    );
    expect(codes.size).toBeGreaterThanOrEqual(10);
    const cases = rows.map((r) => ({
      name: `seq ${r.seq}`,
      entrypoint: (r.type === "decision.access" ? "residency/decision" : "inference/route") as Entrypoint,
      input: { ...r.payload.evaluation, request: r.payload.request },
    }));
    expect(await compare(cases)).toEqual([]);
  });
});

/** Objects with their keys sorted: the interpreter and the wasm emit keys in different orders. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
  );
}
