import { Agent, createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// Property-based fuzz of every route the service answers (read from the app's own route table, so
// a new route is fuzzed without touching this file): generated paths, query strings, headers and
// bodies — well-formed bodies with one field made hostile, random JSON, random bytes — through one
// listening server. The property: never a 5xx, always the error envelope on a 4xx, and the process
// still answers afterwards. FUZZ_INPUTS raises the count for a longer run (default 2,400).

const INPUTS = Number(process.env.FUZZ_INPUTS ?? 2400);
const PER_RUN = 8; // requests sent concurrently per generated case

type Req = { method: string; path: string; headers: Record<string, string>; body: Buffer | null };
type Route = { method: string; path: string };

// Fields the API knows, and values that have broken services before.
const FIELDS = [
  "tenant_id",
  "learner_id",
  "operation_type",
  "resource_type",
  "resource_id",
  "requested_region",
  "purpose",
  "override_id",
  "data_locations",
  "model_type",
  "data_classification",
  "operation",
  "key",
  "expires_in",
  "primary_region",
  "allowed_regions",
  "prohibited_regions",
  "compliance_frameworks",
  "allow_cross_region_failover",
  "failover_regions",
  "data_retention_days",
  "transfer_mechanisms",
  "consents",
  "learner_age",
  "override_permitted",
  "emergency_contact",
  "learner_ids",
  "target_region",
  "operations",
  "reason",
  "ticket",
  "duration_hours",
  "status",
  "principal",
  "roles",
  "tenant_ids",
  "requests",
  "__proto__",
  "constructor",
];
const QUERY_NAMES = [
  "tenant_id",
  "learner_id",
  "include_inactive",
  "include_revoked",
  "limit",
  "cursor",
  "status",
  "region",
  "model_type",
  "from",
  "to",
  "operation_type",
  "allowed",
  "type",
  "format",
  "dry_run",
  "examples",
];
const NASTY_STRINGS = [
  "",
  " ",
  "0",
  "-1",
  "1e309",
  "NaN",
  "Infinity",
  "true",
  "null",
  "[]",
  "{}",
  "0000-01-01",
  "0000-01-01T00:00:00Z",
  "2026-02-30T00:00:00Z",
  "9999-12-31T23:59:59Z",
  "+275760-09-13T00:00:00Z",
  "eu-west",
  "us-east",
  "read",
  "inference",
  "gdpr",
  "admin",
  "service",
  "jsonl",
  "csv",
  "healthy",
  "unavailable",
  "acme-edu",
  "fz-a",
  "../../etc/passwd",
  "fz-a/../../x",
  "/abs",
  "a\u0000b",
  "\ud800",
  "\u202e",
  '=HYPERLINK("x")',
  "' OR 1=1 --",
  "%00",
  "x".repeat(5000),
  "é".repeat(300),
  "key_bootstra",
  "MTIz",
  "AAAA",
  "__proto__",
];

const nastyString = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,130}$/),
);
const nastyNumber = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 1e-300, Number.MIN_VALUE, 1 / 60, 0.5, 72, 73, 2 ** 31, 2 ** 53 + 1, 1e308),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: nastyString },
  { weight: 2, arbitrary: nastyNumber },
  fc.boolean(),
  fc.constant(null),
  fc.array(nastyString, { maxLength: 5 }),
  fc.array(fc.constantFrom("eu-west", "us-east", "ca-central", "gdpr", "ferpa", "read"), { maxLength: 20 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant(Array.from({ length: 2000 }, (_, i) => i)),
  fc.constant(JSON.parse("[".repeat(500) + "]".repeat(500))),
);

// A well-formed body per route (so hostile fields reach past the first check); other routes get
// random objects.
const EXAMPLES: Record<string, Record<string, unknown>> = {
  "post /api/v1/access/resolve": {
    tenant_id: "fz-a",
    learner_id: "l-1",
    operation_type: "read",
    resource_type: "document",
    resource_id: "r-1",
    requested_region: "eu-west",
  },
  "post /api/v1/inference/route": {
    tenant_id: "fz-a",
    model_type: "claude-3-haiku",
    operation_type: "inference",
  },
  "post /api/v1/storage/presign": {
    tenant_id: "fz-a",
    operation: "read",
    key: "fz-a/doc.txt",
    expires_in: 60,
  },
  "post /api/v1/policies": { tenant_id: "fz-b", primary_region: "us-east", compliance_frameworks: ["ferpa"] },
  "put /api/v1/policies/id/{policy_id}": { tenant_id: "fz-b", primary_region: "us-east" },
  "post /api/v1/emergency/override": {
    tenant_id: "fz-a",
    target_region: "us-east",
    reason: "incident",
    ticket: "INC-1",
    duration_hours: 1,
  },
  "post /api/v1/emergency/override/{id}/revoke": { reason: "done" },
  "put /api/v1/regions/{code}/health": { status: "degraded", reason: "fuzz" },
  "post /api/v1/keys": { principal: "fuzz-key", roles: ["service"] },
};
EXAMPLES["post /api/v1/access/resolve-batch"] = {
  requests: [
    EXAMPLES["post /api/v1/access/resolve"],
    { ...EXAMPLES["post /api/v1/access/resolve"], learner_id: "l-2" },
  ],
};

/** An own property even for `__proto__`, so JSON.stringify sends it. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function bodyFor(route: Route): fc.Arbitrary<{ json: unknown } | { raw: Buffer }> {
  const example = EXAMPLES[`${route.method} ${route.path}`];
  const mutated = example
    ? fc
        .tuple(
          fc.subarray(Object.keys(example), { minLength: 1 }),
          fc.array(nastyValue, { minLength: 1, maxLength: 4 }),
          fc.constantFrom("replace", "delete", "extra"),
          fc.constantFrom(...FIELDS),
        )
        .map(([fields, values, how, extra]) => {
          const body: Record<string, unknown> = { ...example };
          fields.forEach((f, i) => {
            if (how === "delete") delete body[f];
            else setOwn(body, f, values[i % values.length]);
          });
          if (how === "extra") setOwn(body, extra, values[0]);
          return { json: body };
        })
    : fc.dictionary(fc.constantFrom(...FIELDS), nastyValue, { maxKeys: 6 }).map((json) => ({ json }));
  return fc.oneof(
    { weight: 6, arbitrary: mutated },
    ...(example ? [{ weight: 1, arbitrary: fc.constant({ json: example }) }] : []),
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((json) => ({ json })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => ({ raw: Buffer.from(b) })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom("", "{", '{"a":', "nul", "\ufeff{}", '{"a":1}{"b":2}')
        .map((s) => ({ raw: Buffer.from(s) })),
    },
  );
}

/** A path segment: usually a plausible value, sometimes bytes that need percent-encoding (or are not UTF-8). */
function segment(known: readonly string[]): fc.Arbitrary<string> {
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...known).map(encodeURIComponent) },
      {
        weight: 2,
        arbitrary: nastyString.map((s) => (s.isWellFormed() ? encodeURIComponent(s) : "%ED%A0%80")),
      },
      {
        weight: 1,
        arbitrary: fc
          .uint8Array({ minLength: 1, maxLength: 12 })
          .map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, "0")}`).join("")),
      },
    )
    .map((s) => s || "%20");
}

const queryString = fc
  .array(
    fc.tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...QUERY_NAMES) }, fc.string({ maxLength: 8 })),
      fc.oneof(nastyString, fc.constantFrom("1", "10", "1000", "1001", "true", "false")),
    ),
    { maxLength: 5 },
  )
  .map((pairs) =>
    pairs
      .filter(([k, v]) => k.isWellFormed() && v.isWellFormed())
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join("&"),
  );

const printable = fc.stringMatching(/^[\x20-\x7e]{0,80}$/);

describe("fuzz: every route, generated input", () => {
  let t: TestService;
  let server: Server;
  let port: number;
  const agent = new Agent({ keepAlive: true, maxSockets: PER_RUN });
  const keys: Record<string, string> = {};
  const known: Record<string, string[]> = {};
  const problems: unknown[] = [];
  const onProblem = (err: unknown) => problems.push(err);

  beforeAll(async () => {
    process.on("unhandledRejection", onProblem);
    process.on("uncaughtException", onProblem);
    t = await startTestService();
    const admin: Api = api(t.handler, ADMIN_KEY);
    for (const tenant of ["fz-a", "fz-b"]) {
      await admin.post("/api/v1/policies", {
        tenant_id: tenant,
        primary_region: "eu-west",
        compliance_frameworks: ["gdpr"],
        override_permitted: true,
      });
    }
    const policy = await admin.post("/api/v1/policies", {
      tenant_id: "fz-a",
      learner_id: "l-1",
      learner_age: 15,
    });
    keys.admin = ADMIN_KEY;
    keys.service = await t.keyFor(["service"]);
    keys.scoped = await t.keyFor(["service", "policy_admin", "auditor", "approver"], ["fz-a"]);
    keys.auditor = await t.keyFor(["auditor"]);
    const override = await api(t.handler, keys.service).post(
      "/api/v1/emergency/override",
      EXAMPLES["post /api/v1/emergency/override"],
    );
    known.policy_id = [policy.body.policy_id, "pol_00000000000000000000000000000000"];
    known.id = [override.body.override_id, "ovr_00000000000000000000000000000000"];
    known.tenant_id = ["fz-a", "fz-b", "nobody"];
    known.code = ["eu-west", "us-east", "mars-north"];
    known.revision = [t.service.bundles.engine.current()!.revision, "rev-000000000000"];
    server = createServer(t.handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    agent.destroy();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await t?.close();
    process.off("unhandledRejection", onProblem);
    process.off("uncaughtException", onProblem);
  });

  function send(r: Req): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: "127.0.0.1", port, method: r.method, path: r.path, headers: r.headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode!,
              body: Buffer.concat(chunks).toString("utf8"),
              headers: res.headers,
            }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(r.body ?? undefined);
    });
  }

  it(`${INPUTS} generated requests across every route: no 5xx, envelopes on every error, still alive`, {
    timeout: 240_000,
  }, async () => {
    const routes = t.service.app.routes();
    expect(routes.length).toBeGreaterThan(20);
    const requestFor = (route: Route): fc.Arbitrary<Req> => {
      const names = [...route.path.matchAll(/\{([A-Za-z_]+)\}/g)].map((m) => m[1]!);
      const withBody = route.method === "post" || route.method === "put";
      return fc
        .record({
          params: fc.tuple(...names.map((n) => segment(known[n] ?? ["x"]))),
          query: queryString,
          body: withBody ? bodyFor(route) : fc.constant(null),
          auth: fc.constantFrom("admin", "admin", "admin", "service", "scoped", "auditor", "garbage", "none"),
          contentType: fc.oneof(
            { weight: 8, arbitrary: fc.constant("application/json") },
            fc.constantFrom(
              "application/json; charset=utf-8",
              "text/plain",
              "application/gzip",
              "application/x-www-form-urlencoded",
              "",
            ),
            printable,
          ),
          requestId: fc.option(printable, { nil: undefined }),
          tenantHeader: fc.option(fc.oneof(printable, fc.constantFrom("fz-a", "fz-b")), { nil: undefined }),
          ifMatch: fc.option(fc.oneof(printable, fc.constantFrom('"1"', "1", 'W/"2"')), { nil: undefined }),
        })
        .map(({ params, query, body, auth, contentType, requestId, tenantHeader, ifMatch }) => {
          let i = 0;
          const path = route.path.replace(/\{[A-Za-z_]+\}/g, () => params[i++]!) + (query ? `?${query}` : "");
          const headers: Record<string, string> = {};
          if (auth === "garbage") headers.authorization = "Bearer rsk_not-a-key-000000000000000000";
          else if (auth !== "none") headers.authorization = `Bearer ${keys[auth]}`;
          if (requestId !== undefined) headers["x-request-id"] = requestId;
          if (tenantHeader !== undefined) headers["x-tenant-id"] = tenantHeader;
          if (ifMatch !== undefined) headers["if-match"] = ifMatch;
          let bytes: Buffer | null = null;
          if (body) {
            bytes = "raw" in body ? body.raw : Buffer.from(JSON.stringify(body.json) ?? "null");
            if (contentType) headers["content-type"] = contentType;
          }
          return { method: route.method.toUpperCase(), path, headers, body: bytes };
        });
    };
    // A counterexample shows the request line, headers and the start of the body, not a byte array.
    const shown = (req: Req) =>
      `${req.method} ${req.path} ${JSON.stringify(req.headers)} ${JSON.stringify(req.body?.toString("utf8").slice(0, 200) ?? null)}`;
    const anyRequest = fc.oneof(
      ...routes.map((route) =>
        requestFor(route).map((req) => ({ req, route, [fc.toStringMethod]: () => shown(req) })),
      ),
    );

    const byStatus = new Map<number, number>();
    const byRoute = new Map<string, number>();
    let sent = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(anyRequest, { minLength: PER_RUN, maxLength: PER_RUN }), async (cases) => {
        const answers = await Promise.all(cases.map(({ req }) => send(req)));
        answers.forEach((res, i) => {
          const { route, req } = cases[i]!;
          const name = `${route.method} ${route.path}`;
          sent++;
          byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
          byRoute.set(name, (byRoute.get(name) ?? 0) + 1);
          if (res.status >= 500) {
            throw new Error(`${req.method} ${req.path} answered ${res.status}: ${res.body.slice(0, 300)}`);
          }
          if (res.status >= 400) {
            const envelope = JSON.parse(res.body) as { error?: { code?: unknown; request_id?: unknown } };
            expect(typeof envelope.error?.code, `${req.method} ${req.path}`).toBe("string");
            expect(envelope.error?.request_id).toBe(res.headers["x-request-id"]);
          }
        });
      }),
      { numRuns: Math.ceil(INPUTS / PER_RUN), endOnFailure: true },
    );
    const seconds = (Date.now() - started) / 1000;
    const statuses = [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(" ");
    console.log(
      `fuzz: ${sent} requests over ${byRoute.size}/${routes.length} routes in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s); statuses ${statuses}`,
    );

    expect(sent).toBeGreaterThanOrEqual(INPUTS);
    expect(byRoute.size).toBe(routes.length); // every route was exercised
    expect(problems).toEqual([]); // no unhandled rejection or exception in the process
    const live = await send({ method: "GET", path: "/health/live", headers: {}, body: null });
    expect(live.status).toBe(200);
    const ready = await send({ method: "GET", path: "/health/ready", headers: {}, body: null });
    expect(ready.status).toBe(200);
    const auditor = api(t.handler, keys.auditor!);
    expect((await auditor.get("/api/v1/audit/verify")).body).toMatchObject({ ok: true });
  });
});
