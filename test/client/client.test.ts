import { build } from "esbuild";
import { describe, expect, expectTypeOf, it } from "vitest";
import { createClient, normalizeBaseUrl, orThrow } from "../../src/client/client.ts";
import { ApiError, ConnectionError, isApiError } from "../../src/client/errors.ts";
import { checkContract } from "../support/http.ts";

// The client without a service: a fetch that answers what each case needs, counting attempts.

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | "refused";

function fakeFetch(answers: Answer[]) {
  const calls: Array<{ method: string; url: string; headers: Record<string, string>; body: unknown }> = [];
  const fetch = (async (
    url: string,
    init: { method: string; headers: Record<string, string>; body?: unknown },
  ) => {
    calls.push({ method: init.method, url, headers: init.headers, body: init.body });
    const a = answers[Math.min(calls.length - 1, answers.length - 1)]!;
    if (a === "refused") throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
    return new Response(a.body === undefined ? null : JSON.stringify(a.body), {
      status: a.status,
      headers: { "content-type": "application/json", ...a.headers },
    });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

const envelope = (code: string, message = "no") => ({
  error: { code, message, details: null, request_id: "rid-1" },
});

const client = (answers: Answer[]) => {
  const f = fakeFetch(answers);
  return {
    c: createClient({ baseUrl: "http://svc.test", apiKey: "k", fetch: f.fetch, backoffMs: () => 1 }),
    ...f,
  };
};

describe("typed client", () => {
  it("fills path parameters and the query, sends the key and JSON", async () => {
    const { c, calls } = client([{ status: 200, body: { items: [], next_cursor: null } }]);
    const r = await c.GET("/api/v1/policies/{tenant_id}", {
      params: { tenant_id: "acme edu" },
      query: { limit: 10, include_inactive: "true", cursor: undefined },
    });
    expect(r.data).toEqual({ items: [], next_cursor: null });
    expect(calls[0]).toMatchObject({
      method: "GET",
      url: "http://svc.test/api/v1/policies/acme%20edu?limit=10&include_inactive=true",
      headers: { authorization: "Bearer k", accept: "application/json" },
    });
    const { c: p, calls: posted } = client([{ status: 200, body: { decisions: [] } }]);
    await p.POST("/api/v1/access/resolve-batch", {
      body: { requests: [{ tenant_id: "t", operation_type: "read", resource_type: "d", resource_id: "1" }] },
    });
    expect(posted[0]!.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(posted[0]!.body as string)).toMatchObject({ requests: [{ tenant_id: "t" }] });
  });

  it("SPEC error codes come back as typed errors", async () => {
    const { c } = client([{ status: 403, body: envelope("FORBIDDEN", "not your tenant") }]);
    const r = await c.POST("/api/v1/access/resolve", {
      body: { tenant_id: "t", operation_type: "read", resource_type: "d", resource_id: "1" },
    });
    expect(r.error).toBeInstanceOf(ApiError);
    expect(r.error).toMatchObject({
      code: "FORBIDDEN",
      status: 403,
      message: "not your tenant",
      requestId: "rid-1",
    });
    expect(isApiError(r.error, "FORBIDDEN", "UNAUTHENTICATED")).toBe(true);
    expect(isApiError(r.error, "NOT_FOUND")).toBe(false);
    expect(() => orThrow(r)).toThrow(ApiError);
  });

  it("retries a GET on 503 (and on a refused connection), never a POST without Retry-After", async () => {
    const get = client([
      { status: 503, body: envelope("STORE_UNAVAILABLE") },
      { status: 200, body: { ok: true } },
    ]);
    expect((await get.c.GET("/api/v1/audit/verify")).data).toEqual({ ok: true });
    expect(get.calls).toHaveLength(2);

    const refused = client(["refused", "refused", "refused"]);
    await expect(refused.c.GET("/api/v1/regions")).rejects.toBeInstanceOf(ConnectionError);
    expect(refused.calls).toHaveLength(3); // 1 + 2 retries

    const post = client([
      { status: 503, body: envelope("AUDIT_UNAVAILABLE") },
      { status: 200, body: {} },
    ]);
    const r = await post.c.POST("/api/v1/keys", { body: { principal: "p", roles: ["service"] } });
    expect(r.error?.code).toBe("AUDIT_UNAVAILABLE");
    expect(post.calls).toHaveLength(1);

    const postRefused = client(["refused", { status: 200, body: {} }]);
    await expect(
      postRefused.c.POST("/api/v1/keys", { body: { principal: "p", roles: ["service"] } }),
    ).rejects.toThrow(/cannot reach http:\/\/svc.test: ECONNREFUSED/);
    expect(postRefused.calls).toHaveLength(1);
  });

  it("retries any method when the service answers 503 with Retry-After, within the cap", async () => {
    const post = client([
      { status: 503, body: envelope("AUDIT_UNAVAILABLE"), headers: { "retry-after": "0" } },
      { status: 201, body: { key_id: "key_1" } },
    ]);
    const r = await post.c.POST("/api/v1/keys", { body: { principal: "p", roles: ["service"] } });
    expect(r.data).toMatchObject({ key_id: "key_1" });
    expect(post.calls).toHaveLength(2);

    const tooLong = client([
      { status: 503, body: envelope("AUDIT_UNAVAILABLE"), headers: { "retry-after": "3600" } },
    ]);
    const late = await tooLong.c.POST("/api/v1/keys", { body: { principal: "p", roles: ["service"] } });
    expect(late.error?.code).toBe("AUDIT_UNAVAILABLE");
    expect(tooLong.calls).toHaveLength(1);

    const never = client([{ status: 422, body: envelope("POLICY_VIOLATION") }]);
    await never.c.GET("/api/v1/regions");
    expect(never.calls).toHaveLength(1); // a 4xx is an answer, not a hiccup
  });

  it("base URLs: host:port is read as http, anything else unclear is refused", () => {
    expect(normalizeBaseUrl("127.0.0.1:8080")).toBe("http://127.0.0.1:8080");
    expect(normalizeBaseUrl("localhost:8080/")).toBe("http://localhost:8080");
    expect(normalizeBaseUrl("https://residency.example/base/")).toBe("https://residency.example/base");
    expect(() => normalizeBaseUrl("ftp://host")).toThrow(/unsupported scheme/);
    expect(() => normalizeBaseUrl("http://")).toThrow(/not a URL/);
    expect(() => normalizeBaseUrl("http://h:1/?x=1")).toThrow(/no query/);
  });

  it("types follow the contract", () => {
    const { c } = client([{ status: 200, body: {} }]);
    const resolve = () =>
      c.POST("/api/v1/access/resolve", {
        body: { tenant_id: "t", operation_type: "read", resource_type: "d", resource_id: "1" },
      });
    expectTypeOf<Awaited<ReturnType<typeof resolve>>["data"]>().toMatchTypeOf<
      { allowed: boolean; decision_id: string; reason: { code: string } } | undefined
    >();
    const exportCsv = () => c.GET("/api/v1/audit/export", { query: { format: "csv" } });
    expectTypeOf<Awaited<ReturnType<typeof exportCsv>>["data"]>().toEqualTypeOf<string | undefined>();
    if (Math.random() > 2) {
      // @ts-expect-error an unknown path does not compile
      void c.GET("/api/v1/nowhere");
      void c.POST("/api/v1/access/resolve", {
        // @ts-expect-error operation_type is a closed set
        body: { tenant_id: "t", operation_type: "teleport", resource_type: "d", resource_id: "1" },
      });
      // @ts-expect-error path parameters are required
      void c.GET("/api/v1/policies/id/{policy_id}");
    }
  });

  it("bundles for a browser: no Node module anywhere in its import graph", async () => {
    const result = await build({
      entryPoints: ["src/client/client.ts"],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/node:|require\(/);
    expect(code).toContain("createClient");
    // Types only from the contract and zod: neither is in the bundle.
    expect(code).not.toContain("strictObject");
  });

  it("the suites' contract check refuses a body that drifts from the schema", () => {
    expect(() =>
      checkContract({ method: "GET", path: "/api/v1/audit/verify", status: 200, body: { ok: "yes" } }),
    ).toThrow(/GET \/api\/v1\/audit\/verify answered 200 with a body its schema refuses: ok/);
    expect(() =>
      checkContract({ method: "GET", path: "/api/v1/keys", status: 403, body: { error: { code: "NOPE" } } }),
    ).toThrow(/schema refuses/);
    expect(() =>
      checkContract({
        method: "GET",
        path: "/api/v1/audit/verify",
        status: 200,
        body: { ok: true, checked: 1, head_seq: 1, first_broken_seq: null },
      }),
    ).not.toThrow();
  });
});
