import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPost } from "../../scripts/lib/local-server.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";
import { buildBundle, FILE_BUNDLE, fileRevision, withoutCanadaAdequacy } from "./support.ts";

// Hot reload under load: autocannon keeps deciding through a real listening server while the
// bundle is swapped back and forth between two revisions whose rules differ for this request.
// Zero non-2xx answers; every decision carries exactly one revision — the one its audit record
// names, and the one whose rule its answer follows.

const CONNECTIONS = 16;
const BASELINE_SECONDS = 3;
const SWAP_SECONDS = 6;

const REQUEST = {
  tenant_id: "hot-reload",
  operation_type: "replicate",
  resource_type: "document",
  resource_id: "doc-1",
  requested_region: "ca-central",
};

describe.each(testBackends())("hot reload under load on $name", (backend) => {
  let db: TestDb;
  let t: TestService;
  let server: Server;
  let base: string;
  let serviceKey: string;
  const revA = fileRevision();
  const revB = "rev-hot-no-ca-adequacy";
  // Under A, Canada is adequate for GDPR; under B it is not.
  const expected: Record<string, string> = {
    [revA]: "ALLOW_PERMITTED_REGION",
    [revB]: "DENY_NO_TRANSFER_MECHANISM",
  };

  beforeAll(async () => {
    db = await backend.create();
    t = await startTestService({ db });
    serviceKey = await t.keyFor(["service"]);
    await api(t.handler, ADMIN_KEY).post("/api/v1/policies", {
      tenant_id: REQUEST.tenant_id,
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
      allowed_regions: ["ca-central"],
    });
    server = createServer(t.handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
    await db?.close();
  });

  it("answers every decision while the bundle is swapped repeatedly", { timeout: 60_000 }, async () => {
    const bundles = [buildBundle(revB, { edit: withoutCanadaAdequacy }), readFileSync(FILE_BUNDLE)];
    const load = (seconds: number, onResponse?: (status: number, body: string) => void) =>
      loadPost({
        url: `${base}/api/v1/access/resolve`,
        headers: { authorization: `Bearer ${serviceKey}` },
        body: JSON.stringify(REQUEST),
        connections: CONNECTIONS,
        seconds,
        ...(onResponse ? { onResponse } : {}),
      });

    await load(1); // warm-up: JIT, connection pools, caches
    // Each candidate's sandboxed check (a worker, ~1 s on a loaded machine) runs once, here, outside
    // the timed window: the instance remembers bundles that passed, so the swaps measure swapping.
    for (const bytes of bundles) {
      const dry = await fetch(`${base}/api/v1/bundles?dry_run=true&limit=1`, {
        method: "PUT",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/gzip" },
        body: new Uint8Array(bytes),
      });
      expect(dry.status).toBe(200);
    }
    const baseline = await load(BASELINE_SECONDS);

    const answers: Array<{ status: number; body: string }> = [];
    let swapping = true;
    let swaps = 0;
    const swapper = (async () => {
      while (swapping) {
        const res = await fetch(`${base}/api/v1/bundles`, {
          method: "PUT",
          headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/gzip" },
          body: new Uint8Array(bundles[swaps % 2]!),
        });
        if (res.status !== 201) throw new Error(`swap ${swaps} answered ${res.status}: ${await res.text()}`);
        swaps++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    // Load runs until at least 10 swaps happened (at least SWAP_SECONDS): on a busy machine swaps
    // take longer, and the claim is about every decision during swaps, not about how fast they go.
    const onResponse = (status: number, body: string) => answers.push({ status, body });
    const during = await load(SWAP_SECONDS, onResponse);
    for (let extra = 0; swaps < 10 && extra < 10; extra++) {
      const more = await load(2, onResponse);
      during.requests.total += more.requests.total;
      during.non2xx += more.non2xx;
      during.errors += more.errors;
      during.timeouts += more.timeouts;
    }
    swapping = false;
    await swapper;

    process.stdout.write(
      `[hot reload, ${backend.name}] ${swaps} swaps in ${SWAP_SECONDS} s, ${during.requests.total} decisions: ` +
        `p99 ${during.latency.p99} ms during swaps vs ${baseline.latency.p99} ms without ` +
        `(p50 ${during.latency.p50} vs ${baseline.latency.p50} ms); non-2xx ${during.non2xx}, errors ${during.errors}\n`,
    );

    expect(swaps).toBeGreaterThanOrEqual(10);
    expect(during.non2xx).toBe(0);
    expect(during.errors).toBe(0);
    expect(during.timeouts).toBe(0);
    expect(baseline.non2xx).toBe(0);
    expect(answers.length).toBeGreaterThan(100);

    const served = new Map<string, string>();
    const seen = new Set<string>();
    for (const { status, body } of answers) {
      expect(status).toBe(200);
      const d = JSON.parse(body) as {
        decision_id: string;
        bundle_revision: string;
        reason: { code: string };
      };
      expect([revA, revB]).toContain(d.bundle_revision);
      // Its answer follows its revision's rule: never a mix, never the other bundle's answer.
      expect(d.reason.code).toBe(expected[d.bundle_revision]);
      served.set(d.decision_id, d.bundle_revision);
      seen.add(d.bundle_revision);
    }
    expect(seen).toEqual(new Set([revA, revB]));

    const audited = await db.query<{ event_id: string; bundle_revision: string }>(
      "SELECT event_id, bundle_revision FROM audit_log WHERE event_id = ANY($1)",
      [[...served.keys()]],
    );
    expect(audited.rows.length).toBe(served.size);
    for (const row of audited.rows) expect(row.bundle_revision).toBe(served.get(row.event_id));
  });
});
