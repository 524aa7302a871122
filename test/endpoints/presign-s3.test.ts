// Presigned URLs against a real S3-compatible server (versitygw on loopback): what the service
// signs is what a storage client can use, in the decided region's bucket under the tenant's prefix,
// and nothing else — another bucket or an expired URL is refused by the server itself.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../support/http.ts";
import { type S3Server, startS3Server } from "../support/s3-server.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

const REGIONS = ["us-east", "us-west", "eu-west", "eu-central", "apac-south", "apac-east", "ca-central"];

describe("presign round trip through a real S3-compatible server", () => {
  let s3: S3Server;
  let t: TestService;
  let svc: ReturnType<typeof api>;

  beforeAll(async () => {
    // One gateway for every bucket, answering as us-west-2 (the region the test tenant is pinned to).
    s3 = await startS3Server({
      buckets: REGIONS.flatMap((r) => [`residency-data-${r}`, `residency-backup-${r}`]),
      region: "us-west-2",
    });
    t = await startTestService({ s3 });
    const admin = api(t.handler, ADMIN_KEY);
    for (const [tenant, primary] of [
      ["files-us", "us-west"],
      ["files-eu", "eu-central"],
    ] as const) {
      const created = await admin.post("/api/v1/policies", {
        tenant_id: tenant,
        primary_region: primary,
        compliance_frameworks: primary === "us-west" ? ["ferpa"] : ["gdpr"],
      });
      expect(created.status).toBe(201);
    }
    svc = api(t.handler, await t.keyFor(["service"]));
  });

  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  const presign = async (body: Record<string, unknown>) => {
    const res = await svc.post("/api/v1/storage/presign", body);
    expect(res.status).toBe(200);
    expect(res.body.allowed).toBe(true);
    return res.body as { url: string; bucket: string; key: string; method: string };
  };

  it("a presigned PUT stores the object under the tenant's prefix in the region's bucket; a presigned GET reads it back", async () => {
    const content = `grades ${Date.now()}`;
    const put = await presign({
      tenant_id: "files-us",
      operation: "write",
      key: "reports/q1.txt",
      expires_in: 60,
    });
    expect(put).toMatchObject({
      method: "PUT",
      bucket: "residency-data-us-west",
      key: "files-us/reports/q1.txt",
    });
    expect(new URL(put.url).origin).toBe(s3.endpoint);

    const stored = await fetch(put.url, { method: "PUT", body: content });
    expect(stored.status).toBe(200);
    const onDisk = join(s3.root, "residency-data-us-west", "files-us", "reports", "q1.txt");
    expect(readFileSync(onDisk, "utf8")).toBe(content);
    for (const r of REGIONS.filter((r) => r !== "us-west")) {
      expect(existsSync(join(s3.root, `residency-data-${r}`, "files-us"))).toBe(false);
    }

    const get = await presign({
      tenant_id: "files-us",
      operation: "read",
      key: "reports/q1.txt",
      expires_in: 60,
    });
    const read = await fetch(get.url);
    expect(read.status).toBe(200);
    expect(await read.text()).toBe(content);
  });

  it("the same signature pointed at another region's bucket is refused by the server", async () => {
    const put = await presign({
      tenant_id: "files-us",
      operation: "write",
      key: "moved.txt",
      expires_in: 60,
    });
    const elsewhere = put.url.replace("/residency-data-us-west/", "/residency-data-eu-west/");
    expect(elsewhere).not.toBe(put.url);
    const res = await fetch(elsewhere, { method: "PUT", body: "should not land" });
    expect(res.status).toBe(403);
    expect(existsSync(join(s3.root, "residency-data-eu-west", "files-us", "moved.txt"))).toBe(false);
  });

  it("a URL signed for another region (eu-central) is refused by a us-west-2 server", async () => {
    const put = await presign({ tenant_id: "files-eu", operation: "write", key: "x.txt", expires_in: 60 });
    expect(put.bucket).toBe("residency-data-eu-central");
    expect(new URL(put.url).searchParams.get("X-Amz-Credential")).toContain("/eu-central-1/s3/");
    const res = await fetch(put.url, { method: "PUT", body: "wrong region" });
    // S3 answers a credential scope for another region with 400 AuthorizationHeaderMalformed.
    expect([400, 403]).toContain(res.status);
    expect(await res.text()).toMatch(/region/i);
    expect(existsSync(join(s3.root, "residency-data-eu-central", "files-eu", "x.txt"))).toBe(false);
  });

  it("an expired URL is refused by the server", async () => {
    const put = await presign({ tenant_id: "files-us", operation: "write", key: "late.txt", expires_in: 60 });
    expect((await fetch(put.url, { method: "PUT", body: "on time" })).status).toBe(200);
    const get = await presign({ tenant_id: "files-us", operation: "read", key: "late.txt", expires_in: 1 });
    await new Promise((r) => setTimeout(r, 2_100));
    const res = await fetch(get.url);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/expired/i);
  });
});
