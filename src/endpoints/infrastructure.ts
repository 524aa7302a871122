import { readFileSync } from "node:fs";
import { z } from "zod";
import { seal } from "../domain/sealed.ts";
import { REGION_CODES, type RegionCode } from "../domain/vocabulary.ts";

// Deployment facts (SPEC §1): where a region's data physically goes. Policy facts (jurisdiction)
// live in the bundle; these live here because they change with the deployment, not the law.

export type StorageInfra = { bucket: string; backup_bucket: string; s3_region: string; endpoint: string };
export type SearchInfra = { domain: string; endpoint: string };
export type Infrastructure = { storage: StorageInfra; search: SearchInfra };
export type InfrastructureMap = Record<RegionCode, Infrastructure>;

const AWS_REGION: Record<RegionCode, string> = {
  "us-east": "us-east-1",
  "us-west": "us-west-2",
  "eu-west": "eu-west-1",
  "eu-central": "eu-central-1",
  "apac-south": "ap-south-1",
  "apac-east": "ap-northeast-1",
  "ca-central": "ca-central-1",
};

export function defaultInfrastructure(code: RegionCode): Infrastructure {
  const s3Region = AWS_REGION[code];
  return {
    storage: {
      bucket: `residency-data-${code}`,
      backup_bucket: `residency-backup-${code}`,
      s3_region: s3Region,
      endpoint: `https://s3.${s3Region}.amazonaws.com`,
    },
    search: {
      domain: `residency-search-${code}`,
      endpoint: `https://residency-search-${code}.${s3Region}.es.amazonaws.com`,
    },
  };
}

const overrideSchema = z.strictObject({
  regions: z
    .partialRecord(
      z.enum(REGION_CODES),
      z.strictObject({
        storage: z
          .strictObject({
            bucket: z.string().min(3),
            backup_bucket: z.string().min(3),
            s3_region: z.string().min(1),
            endpoint: z.url(),
          })
          .partial()
          .optional(),
        search: z
          .strictObject({ domain: z.string().min(1), endpoint: z.url() })
          .partial()
          .optional(),
      }),
    )
    .default({}),
});

/**
 * Defaults, then the JSON file (partial per region), then `s3Endpoint` (MinIO) over every region.
 * Throws with a message naming the file on any error: bad configuration stops start-up.
 */
export function loadInfrastructure(options: { file?: string; s3Endpoint?: string } = {}): InfrastructureMap {
  let overrides: z.infer<typeof overrideSchema> = { regions: {} };
  if (options.file) {
    const parsed = overrideSchema.safeParse(JSON.parse(readFileSync(options.file, "utf8")));
    if (!parsed.success) {
      throw new Error(
        `INFRASTRUCTURE_CONFIG ${options.file}: ${z.prettifyError(parsed.error).replaceAll("\n", " ")}`,
      );
    }
    overrides = parsed.data;
  }
  const map = {} as InfrastructureMap;
  for (const code of REGION_CODES) {
    const base = defaultInfrastructure(code);
    const o = overrides.regions[code];
    map[code] = {
      storage: {
        ...base.storage,
        ...o?.storage,
        ...(options.s3Endpoint ? { endpoint: options.s3Endpoint } : {}),
      },
      search: { ...base.search, ...o?.search },
    };
  }
  // Read by every decision and never changed after start-up: sealed, so answers print it from memory.
  return seal(map);
}
