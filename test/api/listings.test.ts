import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBundle, putBundle } from "../bundles/support.ts";
import { type Api, type ApiResponse, api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// Every listing answers {items, next_cursor} (SPEC §6): a page never stops silently at `limit`, a
// cursor walks the rest, and the keys listing shows an admin what to revoke — never a secret.

describe("listings", () => {
  let t: TestService;
  let admin: Api;

  /** Follows next_cursor to the end; every page within `limit`. */
  async function walk(path: string, limit: number) {
    const items: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const res = await admin.get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(["items", "next_cursor"]);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      items.push(...res.body.items);
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    return { items, pages };
  }

  beforeAll(async () => {
    t = await startTestService();
    admin = api(t.handler, ADMIN_KEY);
    expect(
      (await admin.post("/api/v1/policies", { tenant_id: "list-t", primary_region: "eu-west" })).status,
    ).toBe(201);
    for (let i = 0; i < 6; i++) {
      const res = await admin.post("/api/v1/policies", { tenant_id: "list-t", learner_id: `l-${i}` });
      expect(res.status).toBe(201);
    }
  });
  afterAll(() => t.close());

  it("policies: 7 in pages of 3 — 3 pages, each policy once, in the listing's order", async () => {
    const whole = await admin.get("/api/v1/policies/list-t?limit=1000");
    expect(whole.body.items).toHaveLength(7);
    expect(whole.body.next_cursor).toBeNull();
    const { items, pages } = await walk("/api/v1/policies?tenant_id=list-t", 3);
    expect(pages).toBe(3);
    expect(items.map((p) => p.policy_id)).toEqual(
      whole.body.items.map((p: { policy_id: string }) => p.policy_id),
    );
    expect(items[0]).toMatchObject({ learner_id: null }); // the tenant policy first
    const byPath = await walk("/api/v1/policies/list-t", 2);
    expect(byPath.pages).toBe(4);
    expect(byPath.items).toHaveLength(7);
  });

  it("a page that holds exactly the rest announces no next page", async () => {
    const res = await admin.get("/api/v1/policies?tenant_id=list-t&limit=7");
    expect(res.body.items).toHaveLength(7);
    expect(res.body.next_cursor).toBeNull();
  });

  it("a forged or foreign cursor is a 400, limit above 1000 a 400", async () => {
    for (const cursor of ["garbage", Buffer.from("[1,2]").toString("base64url")]) {
      const res = await admin.get(`/api/v1/policies?cursor=${cursor}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_FAILED");
    }
    expect((await admin.get("/api/v1/policies?limit=1001")).status).toBe(400);
  });

  it("a cursor holding what the store would refuse is a 400 on every listing, never a store error", async () => {
    const forged = (key: unknown[]) => Buffer.from(JSON.stringify(key), "utf8").toString("base64url");
    const timeKeyed = [
      forged(["yesterday", "x"]),
      forged(["2026-13-45T00:00:00.000Z", "x"]),
      forged(["2026-12-02", "x"]),
    ];
    const unstorable = (n: number) => [
      forged(["a\u0000b", ...Array(n - 1).fill("")]),
      forged(["\ud800", ...Array(n - 1).fill("")]),
    ];
    const cases: Array<[string, string[]]> = [
      ["/api/v1/emergency/overrides?tenant_id=list-t", [...timeKeyed, ...unstorable(2)]],
      ["/api/v1/keys", [...timeKeyed, ...unstorable(2)]],
      ["/api/v1/bundles", [...timeKeyed, ...unstorable(2)]],
      ["/api/v1/policies", unstorable(3)],
      ["/api/v1/legal-holds", unstorable(2)],
    ];
    for (const [path, cursors] of cases) {
      for (const cursor of cursors) {
        const res = await admin.get(`${path}${path.includes("?") ? "&" : "?"}cursor=${cursor}`);
        expect([path, res.status, res.body.error?.code]).toEqual([path, 400, "VALIDATION_FAILED"]);
      }
    }
  });

  it("overrides page newest first", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await admin.post("/api/v1/emergency/override", {
        tenant_id: "list-t",
        target_region: "eu-central",
        reason: `drill ${i}`,
        ticket: `T-${i}`,
      });
      expect(res.status).toBe(201);
    }
    const whole = await admin.get("/api/v1/emergency/overrides?tenant_id=list-t&limit=1000");
    expect(whole.body.items).toHaveLength(5);
    const { items, pages } = await walk("/api/v1/emergency/overrides?tenant_id=list-t", 2);
    expect(pages).toBe(3);
    expect(items.map((o) => o.override_id)).toEqual(
      whole.body.items.map((o: { override_id: string }) => o.override_id),
    );
    expect(items.map((o) => o.ticket)).toEqual(["T-4", "T-3", "T-2", "T-1", "T-0"]);
  });

  it("GET /api/v1/keys: ids, principals, roles, scopes, dates — never the secret; revoked on request", async () => {
    const created: Array<{ key_id: string; key: string }> = [];
    for (const [i, roles] of [["service"], ["auditor"], ["approver"]].entries()) {
      const res = await admin.post("/api/v1/keys", {
        principal: `lister-${i}`,
        roles,
        ...(i === 1 ? { tenant_ids: ["list-t"] } : {}),
      });
      expect(res.status).toBe(201);
      created.push(res.body as { key_id: string; key: string });
    }
    expect((await admin.delete(`/api/v1/keys/${created[2]!.key_id}`)).status).toBe(200);

    const { items, pages } = await walk("/api/v1/keys", 1);
    expect(pages).toBeGreaterThanOrEqual(3);
    const ids = items.map((k) => k.key_id);
    expect(ids).toContain(created[0]!.key_id);
    expect(ids).not.toContain(created[2]!.key_id); // revoked: only when asked
    const listed = items.find((k) => k.key_id === created[1]!.key_id)!;
    expect(listed).toMatchObject({
      principal: "lister-1",
      roles: ["auditor"],
      tenant_ids: ["list-t"],
      revoked_at: null,
    });
    expect(listed.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const text = JSON.stringify(items);
    for (const c of created) expect(text).not.toContain(c.key);
    expect(text).not.toMatch(/secret|hash/);

    const withRevoked = await admin.get("/api/v1/keys?include_revoked=true&limit=1000");
    const revoked = withRevoked.body.items.find((k: { key_id: string }) => k.key_id === created[2]!.key_id);
    expect(revoked.revoked_at).toMatch(/^\d{4}-/);

    const auditor = api(t.handler, created[1]!.key);
    expect((await auditor.get("/api/v1/keys")).status).toBe(403);
    const scopedAdmin = api(t.handler, await t.keyFor(["admin"], ["list-t"]));
    expect((await scopedAdmin.get("/api/v1/keys")).status).toBe(403);
  });

  it("bundles: stored bundles page newest first; activations alongside", async () => {
    for (const rev of ["rev-list-1", "rev-list-2"]) {
      const res = await putBundle(t.handler, ADMIN_KEY, buildBundle(rev));
      expect(res.status).toBe(201);
    }
    const whole = await admin.get("/api/v1/bundles?limit=500");
    expect(whole.body.next_cursor).toBeNull();
    const revisions = whole.body.items.map((b: { revision: string }) => b.revision);
    expect(revisions.slice(0, 2)).toEqual(["rev-list-2", "rev-list-1"]);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ApiResponse = await admin.get(
        `/api/v1/bundles?limit=1${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.body.items.map((b: { revision: string }) => b.revision));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(revisions);
    expect(pages).toBe(revisions.length);
    expect((await admin.get("/api/v1/bundles?cursor=nope")).status).toBe(400);
  });

  it("complete listings still say so: regions, catalog, versions", async () => {
    const regions = await admin.get("/api/v1/regions");
    expect(regions.body.next_cursor).toBeNull();
    expect(regions.body.items.length).toBeGreaterThan(5);
    const catalog = await admin.get("/api/v1/inference/endpoints");
    expect(catalog.body).toMatchObject({ next_cursor: null });
    const policy = (await admin.get("/api/v1/policies/list-t?limit=1")).body.items[0];
    const versions = await admin.get(`/api/v1/policies/id/${policy.policy_id}/versions`);
    expect(versions.body).toMatchObject({ items: [{ version: 1 }], next_cursor: null });
  });
});
