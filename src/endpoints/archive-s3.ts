// Audit archives in an S3-compatible bucket (this room holds the cloud clients; the audit room
// sees only its ArchiveTarget interface). Objects are written with Object Lock (compliance mode, a
// retain-until date) when the bucket has Object Lock enabled — then not even the account that
// wrote them can delete or overwrite them before that date — and plainly when it has not.

import {
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { ArchiveTarget } from "../audit/archive.ts";

export function s3Target(options: {
  client: S3Client;
  bucket: string;
  /** Key prefix, e.g. `audit/` (default none). */
  prefix?: string;
  /** Object Lock retention when the bucket supports it (default 2,555 days, about 7 years). */
  lockDays?: number;
  clock?: () => Date;
}): ArchiveTarget & { objectLock(): Promise<boolean> } {
  const { client, bucket } = options;
  const prefix = options.prefix ? `${options.prefix.replace(/\/+$/, "")}/` : "";
  const lockDays = options.lockDays ?? 2555;
  const clock = options.clock ?? (() => new Date());
  let lock: Promise<boolean> | null = null;
  const objectLock = () => {
    lock ??= client
      .send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))
      .then((r) => r.ObjectLockConfiguration?.ObjectLockEnabled === "Enabled")
      .catch(() => false); // no configuration, or a server without the API: plain objects
    return lock;
  };
  return {
    objectLock,
    open(archiveName) {
      const base = `${prefix}${archiveName}/`;
      return {
        location: `s3://${bucket}/${base}`,
        async write(name, bytes) {
          const locked = await objectLock();
          await client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: base + name,
              Body: bytes,
              ...(locked
                ? {
                    ObjectLockMode: "COMPLIANCE",
                    ObjectLockRetainUntilDate: new Date(clock().getTime() + lockDays * 86_400_000),
                  }
                : {}),
            }),
          );
        },
        async read(name) {
          try {
            const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: base + name }));
            return r.Body ? Buffer.from(await r.Body.transformToByteArray()) : Buffer.alloc(0);
          } catch (err) {
            const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
            if (e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404) return null;
            throw err;
          }
        },
      };
    },
  };
}

/** The target for `s3://bucket/prefix`, with its own client (main.ts passes the configuration). */
export function createS3ArchiveTarget(options: {
  bucket: string;
  prefix?: string;
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  lockDays?: number;
}): ArchiveTarget & { objectLock(): Promise<boolean> } {
  const client = new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle ?? false,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  return s3Target({
    client,
    bucket: options.bucket,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    ...(options.lockDays ? { lockDays: options.lockDays } : {}),
  });
}
