import { Validator } from "@seriousme/openapi-schema-validator";
import { Router } from "express";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppDeps, createApp } from "../../src/http/app.ts";
import { API } from "../../src/http/contract.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { startTestService, type TestService } from "../support/service.ts";

// The OpenAPI document is generated from the contract table; this suite holds the table to the
// routers that really answer (both ways), and the document to the OpenAPI 3.1 schema.

/** The real service's pieces, enough to build a second app around another router. */
function appDeps(t: TestService): AppDeps {
  const s = t.service;
  return {
    logger: createLogger("silent"),
    metrics: s.metrics,
    authenticate: async () => null,
    decide: s.decide,
    presign: (() => Promise.reject(new Error("unused"))) as unknown as AppDeps["presign"],
    policies: s.policies,
    overrides: s.overrides,
    regions: {} as AppDeps["regions"],
    keys: s.keys,
    legalHolds: s.legalHolds,
    audit: {} as AppDeps["audit"],
    catalog: () => null,
    health: async () => ({ ready: true, checks: {} }),
    bundleRoutes: Router(),
  };
}

describe("OpenAPI document", () => {
  let t: TestService;
  let document: Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };

  beforeAll(async () => {
    t = await startTestService();
    const res = await request(t.handler).get("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    document = res.body;
  });
  afterAll(() => t.close());

  it("is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("documents every route the routers answer, and no route they do not", () => {
    const served = t.service.app
      .routes()
      .map((r) => `${r.method.toUpperCase()} ${r.path}`)
      .sort();
    const documented = Object.keys(API).sort();
    // Both lists in full, so a failure names the route that lacks its document (or its router).
    expect(served).toEqual(documented);
    const inDocument = Object.entries(document.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(inDocument).toEqual(documented);
    // A floor, so an enumerator that silently found nothing cannot pass.
    expect(served.length).toBeGreaterThanOrEqual(37);
  });

  it("the enumerator reads the real routers: a route added to a sub-router shows up undocumented", () => {
    const router = Router();
    router.get("/shiny/:thing", (_req, res) => {
      res.json({});
    });
    const app = createApp({ ...appDeps(t), bundleRoutes: router });
    const undocumented = app
      .routes()
      .map((r) => `${r.method.toUpperCase()} ${r.path}`)
      .filter((k) => !(k in API));
    expect(undocumented).toEqual(["GET /api/v1/bundles/shiny/{thing}"]);
  });

  it("every operation says who may call it and answers errors in the envelope", () => {
    for (const [path, ops] of Object.entries(document.paths)) {
      for (const [method, raw] of Object.entries(ops)) {
        const op = raw as {
          "x-roles": unknown;
          description: string;
          responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
        };
        const where = `${method.toUpperCase()} ${path}`;
        expect(op["x-roles"], where).toBeDefined();
        expect(op.description, where).toMatch(/Roles: /);
        const errors = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
        expect(errors.length, where).toBeGreaterThan(0);
        for (const [, response] of errors) {
          expect(response.content?.["application/json"]?.schema.$ref, where).toBe(
            "#/components/schemas/ErrorEnvelope",
          );
        }
      }
    }
    const resolve = document.paths["/api/v1/access/resolve"]!.post as {
      "x-roles": string[];
      requestBody: { content: { "application/json": { example: unknown } } };
      responses: Record<string, unknown>;
    };
    expect(resolve["x-roles"]).toEqual(["service"]);
    expect(resolve.requestBody.content["application/json"].example).toMatchObject({ tenant_id: "acme-edu" });
    expect(Object.keys(resolve.responses).sort()).toEqual([
      "200",
      "400",
      "401",
      "403",
      "413",
      "415",
      "500",
      "503",
    ]);
    const schemas = (document.components as { schemas: Record<string, { example?: unknown }> }).schemas;
    expect(schemas.AccessDecision?.example).toMatchObject({ allowed: true });
    expect(schemas.ErrorEnvelope?.example).toMatchObject({ error: { code: "VALIDATION_FAILED" } });
  });

  it("needs no key", async () => {
    const res = await request(t.handler).get("/openapi.json").set("authorization", "Bearer nonsense");
    expect(res.status).toBe(200);
  });
});
