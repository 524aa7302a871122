import {
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDb, testBackends } from "../support/databases.ts";
import { api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";
import { buildBundle, FILE_BUNDLE, fileRevision } from "./support.ts";

// The watched BUNDLE_PATH: a changed file is published like a push; a file still being written is
// never loaded; a file that stays broken is refused and the serving bundle stays.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  // Generous: a reload polls, builds and self-checks a bundle in a sandbox, which on a loaded
  // 2-core machine running the other suites took more than 5 s once. Returns as soon as it is done.
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(50);
  }
}

describe("the watched bundle file", { timeout: 60_000 }, () => {
  const backend = testBackends()[0]!; // the file side does not depend on the store
  let work: string;
  let path: string;
  let db: TestDb;
  let t: TestService;

  const activeRevision = async () =>
    (await api(t.handler, ADMIN_KEY).get("/api/v1/bundles/active")).body.revision;
  const events = async (type: string) =>
    (
      await db.query<{ payload: { code?: string; source: string; revision?: string } }>(
        "SELECT payload FROM audit_log WHERE type = $1 ORDER BY seq",
        [type],
      )
    ).rows.map((r) => r.payload);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "residency-watch-"));
    path = join(work, "residency.tar.gz");
    copyFileSync(FILE_BUNDLE, path);
    db = await backend.create();
    t = await startTestService({ db, bundlePath: path, bundleWatch: true, bundlePollIntervalMs: 1_000 });
  });
  afterAll(async () => {
    await t.close();
    await db.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("publishes a replaced file (atomic rename) like a push", async () => {
    expect(await activeRevision()).toBe(fileRevision());
    const next = join(work, "next.tar.gz");
    writeFileSync(next, buildBundle("rev-watch-1"));
    renameSync(next, path);
    expect(await waitFor(activeRevision, (r) => r === "rev-watch-1")).toBe("rev-watch-1");
    expect((await events("bundle.activated")).at(-1)).toMatchObject({
      revision: "rev-watch-1",
      source: "file",
    });
    const active = await db.query("SELECT revision FROM bundle_active");
    expect(active.rows[0]).toEqual({ revision: "rev-watch-1" });
  });

  it("waits for a file written slowly in place, and loads it only once complete", async () => {
    const bytes = buildBundle("rev-watch-2");
    const rejectedBefore = (await events("bundle.rejected")).length;
    const fd = openSync(path, "w"); // truncates: the watcher now sees an empty, then a partial file
    writeSync(fd, bytes, 0, 4096);
    await sleep(500);
    writeSync(fd, bytes, 4096, bytes.length >> 1);
    await sleep(500);
    expect(await activeRevision()).toBe("rev-watch-1"); // never a half bundle
    writeSync(fd, bytes, 4096 + (bytes.length >> 1), bytes.length - 4096 - (bytes.length >> 1));
    closeSync(fd);
    expect(await waitFor(activeRevision, (r) => r === "rev-watch-2")).toBe("rev-watch-2");
    expect((await events("bundle.rejected")).length).toBe(rejectedBefore);
  });

  it("refuses a file that stays truncated (BUNDLE_CORRUPT) and keeps serving", async () => {
    const bytes = buildBundle("rev-watch-3");
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    const rejected = await waitFor(
      () => events("bundle.rejected"),
      (e) => e.length > 0,
      15_000,
    );
    expect(rejected.at(-1)).toMatchObject({ code: "BUNDLE_CORRUPT", source: "file" });
    expect(await activeRevision()).toBe("rev-watch-2");
    // Fixed: picked up.
    writeFileSync(path, bytes);
    expect(await waitFor(activeRevision, (r) => r === "rev-watch-3")).toBe("rev-watch-3");
  });
});
