import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { RegionCode } from "../domain/vocabulary.ts";
import type { InfrastructureMap } from "./infrastructure.ts";

export type PresignRequest = {
  region: RegionCode;
  bucket: string;
  key: string;
  method: "GET" | "PUT";
  expiresIn: number;
};
export type Presigner = (req: PresignRequest) => Promise<string>;

export type PresignerOptions = {
  infrastructure: InfrastructureMap;
  forcePathStyle?: boolean;
  /** Explicit credentials (tests, an S3-compatible server); absent ⇒ the SDK's default chain (AWS_* env, profiles, IMDS). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
};

/** One S3 client per region, created on first use: a URL is always signed for its own region. */
export function createPresigner(options: PresignerOptions): Presigner {
  const clients = new Map<RegionCode, S3Client>();
  const clientFor = (region: RegionCode) => {
    let client = clients.get(region);
    if (!client) {
      const storage = options.infrastructure[region].storage;
      client = new S3Client({
        region: storage.s3_region,
        // Always the configured endpoint: the AWS default is the SDK's own, and a per-region
        // S3-compatible server (INFRASTRUCTURE_CONFIG) or S3_ENDPOINT is honoured the same way.
        endpoint: storage.endpoint,
        forcePathStyle: options.forcePathStyle ?? false,
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
      clients.set(region, client);
    }
    return client;
  };
  return async (req) => {
    const command =
      req.method === "GET"
        ? new GetObjectCommand({ Bucket: req.bucket, Key: req.key })
        : new PutObjectCommand({ Bucket: req.bucket, Key: req.key });
    return getSignedUrl(clientFor(req.region), command, { expiresIn: req.expiresIn });
  };
}
