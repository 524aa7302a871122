import { availableParallelism } from "node:os";
import { z } from "zod";
import { ed25519Signer } from "./audit/checkpoint.ts";
import { parseVerificationKey } from "./bundles/signature.ts";

// The environment, parsed once (SPEC §9). Any bad value stops start-up with one line that names
// the variable — never a half-configured service.

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const int = (min: number, max: number) => {
  const message = `must be an integer from ${min} to ${max}`;
  return z.coerce
    .number({ error: message })
    .int({ error: message })
    .min(min, { error: message })
    .max(max, { error: message });
};
const url = (protocols: RegExp) => z.url({ protocol: protocols });

const envSchema = z.object({
  PORT: int(0, 65_535).default(8080),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: url(/^postgres(ql)?$/).optional(),
  RESIDENCY_DATA_DIR: z.string().min(1).default("./data"),
  REDIS_URL: url(/^rediss?$/).optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/)
    .default("residency:"),
  CACHE_MAX_STALENESS_MS: int(200, 5_000).default(1_000),
  REDIS_TIMEOUT_MS: int(10, 120).default(100),
  BUNDLE_PATH: z.string().min(1).default("bundles/residency.tar.gz"),
  BUNDLE_VERIFICATION_KEY: z.string().min(1).optional(),
  BUNDLE_VERIFICATION_ALG: z
    .enum([
      "RS256",
      "RS384",
      "RS512",
      "PS256",
      "PS384",
      "PS512",
      "ES256",
      "ES384",
      "ES512",
      "EdDSA",
      "HS256",
      "HS384",
      "HS512",
    ])
    .optional(),
  BUNDLE_POLL_INTERVAL_MS: int(200, 3_600_000).default(5_000),
  BUNDLE_EVALUATION_TIMEOUT_MS: int(0, 10_000).default(1_000),
  DECISION_MEMO_ENTRIES: int(0, 1_000_000).default(50_000),
  INFRASTRUCTURE_CONFIG: z.string().min(1).optional(),
  OVERRIDE_MAX_HOURS: z.coerce
    .number()
    .min(1 / 60, "must be at least 1/60 (the shortest override, one minute)")
    .max(72, "must be at most 72 (SPEC §4.4)")
    .default(24),
  OVERRIDE_REQUIRED_APPROVALS: int(1, 10).default(2),
  OVERRIDE_WEBHOOK_URL: url(/^https?$/).optional(),
  OVERRIDE_WEBHOOK_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  OVERRIDE_SWEEP_INTERVAL_MS: int(1_000, 3_600_000).default(30_000),
  S3_ENDPOINT: url(/^https?$/).optional(),
  S3_FORCE_PATH_STYLE: bool.default(false),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  AWS_SESSION_TOKEN: z.string().min(1).optional(),
  AUDIT_CHECKPOINT_RECORDS: int(1, 100_000_000).default(10_000),
  AUDIT_CHECKPOINT_SECONDS: int(1, 86_400).default(60),
  // An Ed25519 private key (PKCS#8 PEM), or the path of a file holding one; unset ⇒ unsigned checkpoints.
  AUDIT_SIGNING_KEY: z.string().min(1).optional(),
  HTTP_REQUEST_TIMEOUT_MS: int(1_000, 600_000).default(30_000),
  HTTP_HEADERS_TIMEOUT_MS: int(500, 600_000).default(10_000),
  // Worker processes sharing the port (node:cluster); "auto" = one per core.
  WORKERS: z
    .union([z.literal("auto"), int(1, 256)])
    .default(1)
    .transform((v) => (v === "auto" ? availableParallelism() : v)),
  // Unset ⇒ keep every record forever. Set ⇒ partitions older than this many days are archived,
  // verified on read-back, then dropped.
  AUDIT_RETENTION_DAYS: int(1, 36_500).optional(),
  AUDIT_RETENTION_INTERVAL_MS: int(60_000, 86_400_000).default(3_600_000),
  BUNDLE_HISTORY_KEEP: int(1, 100_000).default(20),
  AUDIT_ARCHIVE_DIR: z.string().min(1).optional(),
  AUDIT_ARCHIVE_BUCKET: z
    .string()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[\x21-\x7e]*)?$/, "must be s3://bucket[/prefix]")
    .optional(),
  AUDIT_ARCHIVE_S3_REGION: z.string().min(1).default("us-east-1"),
  AUDIT_ARCHIVE_LOCK_DAYS: int(1, 36_500).default(2555),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  RESIDENCY_BOOTSTRAP_ADMIN_KEY: z
    .string()
    .regex(/^[\x21-\x7e]{24,256}$/, "must be 24-256 printable characters without spaces")
    .optional(),
});

export type Config = z.output<typeof envSchema>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "unset" — a blank line in an .env file must not become a value.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? "environment"), issue.message);
  }
  const config = parsed.data;
  if (config.HTTP_HEADERS_TIMEOUT_MS > config.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError("HTTP_HEADERS_TIMEOUT_MS", "must be at most HTTP_REQUEST_TIMEOUT_MS");
  }
  if (config.OVERRIDE_WEBHOOK_URL && !config.OVERRIDE_WEBHOOK_SECRET) {
    throw new ConfigError(
      "OVERRIDE_WEBHOOK_SECRET",
      "required when OVERRIDE_WEBHOOK_URL is set (payloads are signed)",
    );
  }
  if (config.BUNDLE_VERIFICATION_ALG && !config.BUNDLE_VERIFICATION_KEY) {
    throw new ConfigError("BUNDLE_VERIFICATION_ALG", "is set but BUNDLE_VERIFICATION_KEY is not");
  }
  if (config.WORKERS > 1 && (!config.DATABASE_URL || !config.REDIS_URL)) {
    // PGlite is one process's database, and the in-process cache cannot hear another worker's
    // invalidations: several workers need the shared stores.
    throw new ConfigError("WORKERS", "more than one worker needs DATABASE_URL and REDIS_URL");
  }
  if (config.BUNDLE_VERIFICATION_KEY) {
    // A PEM public key or certificate; an HMAC secret only with BUNDLE_VERIFICATION_ALG=HS*.
    try {
      parseVerificationKey(config.BUNDLE_VERIFICATION_KEY, config.BUNDLE_VERIFICATION_ALG);
    } catch (err) {
      throw new ConfigError("BUNDLE_VERIFICATION_KEY", (err as Error).message);
    }
  }
  if (config.AUDIT_SIGNING_KEY?.trimStart().startsWith("-----BEGIN")) {
    // Else it is a file path, which main.ts reads (and checks the same way).
    try {
      ed25519Signer(config.AUDIT_SIGNING_KEY);
    } catch (err) {
      throw new ConfigError("AUDIT_SIGNING_KEY", (err as Error).message);
    }
  }
  return config;
}
