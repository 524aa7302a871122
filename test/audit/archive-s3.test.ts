import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archiveRange } from "../../src/audit/archive.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { ed25519PublicKey, ed25519Signer } from "../../src/audit/checkpoint.ts";
import { run } from "../../src/cli/main.ts";
import { s3Target } from "../../src/endpoints/archive-s3.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { type S3Server, startS3Server } from "../support/s3-server.ts";
import { decisionEvent, testKeys } from "./fixtures.ts";

// Archives in an S3-compatible bucket: a real S3 server on loopback (versitygw, posix backend),
// explicit fake keys. The archive is read back through the S3 API and verified before it counts;
// the objects on the server's disk then verify offline with the CLI like any directory.

describe("audit archives in an S3 bucket", () => {
  let s3: S3Server;
  let db: TestDb;
  let client: S3Client;
  const keys = testKeys();
  const signer = ed25519Signer(keys.privatePem);
  const publicKey = ed25519PublicKey(keys.publicPem);

  beforeAll(async () => {
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    s3 = await startS3Server({ buckets: ["audit-archive"], region: "eu-central-1" });
    client = new S3Client({
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    db = await testBackends()[0]!.create();
    const log = createAuditLog({ db, checkpoints: { everyRecords: 10, signer } });
    for (let i = 0; i < 30; i += 5)
      await Promise.all(Array.from({ length: 5 }, () => log.append(decisionEvent())));
    await log.close();
  });
  afterAll(async () => {
    client?.destroy();
    await db?.close();
    await s3?.close();
  });

  it("writes the archive, reads it back through the S3 API, and it verifies offline", async () => {
    const target = s3Target({ client, bucket: "audit-archive", prefix: "residency/audit" });
    expect(await target.objectLock()).toBe(false); // this bucket has no Object Lock: plain objects
    const entry = await archiveRange(db, { target, lastSeq: 30, publicKey });
    expect(entry).toMatchObject({
      first_seq: 1,
      last_seq: 30,
      location: "s3://audit-archive/residency/audit/000001-seq-1-30/",
    });
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: "audit-archive", Prefix: "residency/audit/000001-seq-1-30/" }),
    );
    expect((listed.Contents ?? []).map((o) => o.Key!.split("/").slice(3).join("/")).sort()).toEqual([
      "checkpoints.jsonl",
      "manifest.json",
      "segments/000001.jsonl.gz",
      "segments/000002.jsonl.gz",
      "segments/000003.jsonl.gz",
    ]);

    let stdout = "";
    const keyFile = join(s3.root, "public-key.pem");
    await writeFile(keyFile, keys.publicPem);
    const ok = await run(
      [
        "audit",
        "verify",
        join(s3.root, "audit-archive/residency/audit/000001-seq-1-30"),
        "--public-key",
        keyFile,
      ],
      { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true }, env: {}, cwd: "/" },
    );
    expect(ok).toBe(0);
    expect(stdout).toContain("30 records in 3 segments, 3 checkpoints (all signed, signatures verified)");
  });

  it("asks for Object Lock retention on every object when the bucket has Object Lock enabled", async () => {
    const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
    const locking = {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ name: command.constructor.name, input: command.input });
        return command.constructor.name === "GetObjectLockConfigurationCommand"
          ? { ObjectLockConfiguration: { ObjectLockEnabled: "Enabled" } }
          : {};
      },
    } as unknown as S3Client;
    const now = new Date("2026-03-01T00:00:00.000Z");
    const target = s3Target({ client: locking, bucket: "locked", lockDays: 10, clock: () => now });
    await target.open("000001-seq-1-10").write("manifest.json", Buffer.from("{}"));
    expect(sent.at(-1)).toEqual({
      name: "PutObjectCommand",
      input: expect.objectContaining({
        Bucket: "locked",
        Key: "000001-seq-1-10/manifest.json",
        ObjectLockMode: "COMPLIANCE",
        ObjectLockRetainUntilDate: new Date("2026-03-11T00:00:00.000Z"),
      }),
    });
  });
});
