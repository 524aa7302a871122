import { z } from "zod";
import type { AccessRequest, InferenceRequest, PresignRequest } from "../decision/requests.ts";
import { canonicalPrincipal, PRINCIPAL_REFUSED } from "../domain/principal.ts";
import {
  ACCESS_OPERATIONS,
  DATA_CLASSIFICATIONS,
  FRAMEWORKS,
  ID_PATTERN,
  INFERENCE_OPERATIONS,
  PURPOSES,
  REGION_CODES,
  REGION_HEALTH,
  ROLES,
} from "../domain/vocabulary.ts";

// Every body, query and header the API accepts. Objects are strict: an unknown field is a 400,
// never silently ignored (a typo in `prohibited_regions` must not widen where data may go).

export const id = z.string().regex(ID_PATTERN, "must match [A-Za-z0-9._-]{1,128}");

/** A sha256 as lowercase hex (an evaluation context's reference). */
export const contextSha = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits");
export const region = z.enum(REGION_CODES);
const regionList = z
  .array(region)
  .max(REGION_CODES.length * 2)
  .transform((xs) => [...new Set(xs)]);
// Free text ends up in jsonb and text columns: Postgres refuses NUL and lone surrogates, so they are
// a 400 here rather than a failed audit commit later.
const storable = (s: string) => s.isWellFormed() && !s.includes("\u0000");
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine(storable, { message: "must be well-formed text without NUL characters" });

// A mechanism item: a bare region (the storage/search importer there) or a provider item (that
// catalog provider's inference in those regions, SPEC §11.A1). Unknown providers: 422 from the bundle.
const mechanismItems = z
  .array(
    z.union([
      region,
      z.strictObject({
        provider: z.string().regex(/^[a-z0-9-]{1,64}$/, "must match [a-z0-9-]{1,64}"),
        regions: z.array(region).min(1).max(REGION_CODES.length),
        reference: text(256).optional(),
        assessed_at: z.iso.date().optional(),
      }),
    ]),
  )
  .max(64);

/** The closed purpose vocabulary (SPEC §11.A4): exact and lower case, else a 400 naming `purpose`. */
export const purpose = z.enum(PURPOSES);

export const policyDocumentSchema = z
  .strictObject({
    tenant_id: id,
    learner_id: id.nullish(),
    primary_region: region.nullish(),
    allowed_regions: regionList.nullish(),
    prohibited_regions: regionList.nullish(),
    compliance_frameworks: z
      .array(z.enum(FRAMEWORKS))
      .max(FRAMEWORKS.length * 2)
      .transform((xs) => [...new Set(xs)])
      .nullish(),
    data_classification: z.enum(DATA_CLASSIFICATIONS).nullish(),
    allow_cross_region_failover: z.boolean().nullish(),
    failover_regions: regionList.nullish(),
    data_retention_days: z.number().int().min(1).max(36_500).nullish(),
    transfer_mechanisms: z
      .strictObject({
        dpf: regionList.optional(),
        uk_extension: regionList.optional(),
        scc_tia: mechanismItems.optional(),
        idta: mechanismItems.optional(),
        appi_equivalent_measures: mechanismItems.optional(),
        qc_pia: mechanismItems.optional(),
        pipeda_contract: z.boolean().optional(),
        anpd_scc: z.boolean().optional(),
        appi_consent: z.boolean().optional(),
      })
      .nullish(),
    consents: z
      .strictObject({
        school_authorization: z.boolean().optional(),
        parental_consent: z.boolean().optional(),
        ai_training_consent: z.boolean().optional(),
      })
      .nullish(),
    learner_age: z.number().int().min(0).max(130).nullish(),
    // Tenant-level only: on a learner policy the bundle answers 422 FIELD_TENANT_ONLY.
    min_learner_age: z.number().int().min(0).max(130).nullish(),
    dpdp_education_exemption: z.boolean().nullish(),
    override_permitted: z.boolean().nullish(),
    emergency_contact: z
      .string()
      .max(256)
      .refine(storable, { message: "must be well-formed text" })
      .nullish(),
  })
  .superRefine((doc, ctx) => {
    const learner = doc.learner_id !== null && doc.learner_id !== undefined;
    if (!learner && !doc.primary_region) {
      ctx.addIssue({ code: "custom", path: ["primary_region"], message: "required on tenant policies" });
    }
    // Contracts are the tenant's (SPEC §2): a learner policy cannot carry them.
    if (learner && doc.transfer_mechanisms) {
      ctx.addIssue({ code: "custom", path: ["transfer_mechanisms"], message: "tenant-level only" });
    }
    if (learner && doc.override_permitted !== null && doc.override_permitted !== undefined) {
      ctx.addIssue({ code: "custom", path: ["override_permitted"], message: "tenant-level only" });
    }
  })
  .meta({ id: "PolicyDocument" });

export const accessRequestSchema = z
  .strictObject({
    tenant_id: id,
    learner_id: id.optional(),
    operation_type: z.enum(ACCESS_OPERATIONS),
    resource_type: text(64),
    resource_id: text(512),
    requested_region: region.optional(),
    purpose: purpose.optional(),
    override_id: id.optional(),
    data_locations: regionList.optional(),
  })
  .meta({ id: "AccessRequest" });
export type { AccessRequest };

// The wire schema must produce exactly what the use case accepts.
accessRequestSchema satisfies z.ZodType<AccessRequest>;

export const inferenceRequestSchema = z
  .strictObject({
    tenant_id: id.optional(),
    model_type: text(128),
    learner_id: id.optional(),
    operation_type: z.enum(INFERENCE_OPERATIONS),
    purpose: purpose.optional(),
    data_classification: z.enum(DATA_CLASSIFICATIONS).optional(),
    requested_region: region.optional(),
  })
  .meta({ id: "InferenceRequest" });
export const MAX_BATCH = 100;

export const accessBatchSchema = z
  .strictObject({
    requests: z.array(accessRequestSchema).min(1).max(MAX_BATCH),
  })
  .meta({ id: "AccessBatchRequest" });
export type AccessBatch = z.output<typeof accessBatchSchema>;

// tenant_id may come from X-Tenant-ID instead of the body; the route fills it in.
export type { InferenceRequest };

inferenceRequestSchema satisfies z.ZodType<
  Omit<InferenceRequest, "tenant_id"> & { tenant_id?: string | undefined }
>;

// Object keys stay under the tenant's prefix: no absolute paths, no `..`, no control characters.
const objectKey = z
  .string()
  .min(1)
  .max(900)
  .refine((k) => !k.startsWith("/") && !k.split("/").some((part) => part === ".." || part === "."), {
    message: "must be a relative key without . or .. segments",
  })
  .refine((k) => !/\p{Cc}/u.test(k) && k.isWellFormed(), { message: "must not contain control characters" });

export const presignRequestSchema = z
  .strictObject({
    tenant_id: id,
    learner_id: id.optional(),
    operation: z.enum(["read", "write"]),
    key: objectKey,
    expires_in: z.number().int().min(1).max(900).default(300),
    requested_region: region.optional(),
    resource_type: text(64).optional(),
    purpose: purpose.optional(),
    override_id: id.optional(),
  })
  .meta({ id: "PresignRequest" });
export type PresignRequestBody = PresignRequest;
presignRequestSchema satisfies z.ZodType<PresignRequest, unknown>;

export const MIN_OVERRIDE_HOURS = 1 / 60;

export const overrideRequestSchema = z
  .strictObject({
    tenant_id: id,
    learner_ids: z.array(id).min(1).max(1000).optional(),
    target_region: region,
    operations: z.array(z.enum(ACCESS_OPERATIONS)).min(1).max(ACCESS_OPERATIONS.length).optional(),
    reason: text(2000),
    ticket: text(256),
    // At least one minute: a shorter window (1e-300 h, say) would be created already expired.
    duration_hours: z
      .number()
      .finite()
      .min(MIN_OVERRIDE_HOURS, "must be at least 1/60 (one minute)")
      .default(4),
  })
  .meta({ id: "OverrideRequest" });

export const revokeRequestSchema = z.strictObject({ reason: text(2000).optional() });

export const healthUpdateSchema = z
  .strictObject({
    status: z.enum(REGION_HEALTH),
    reason: z.string().max(500).refine(storable, { message: "must be well-formed text" }).optional(),
  })
  .meta({ id: "RegionHealthUpdate" });

export const keyCreateSchema = z
  .strictObject({
    // Stored as canonicalPrincipal(name) (admin/keys.ts): one person, one approver.
    principal: text(128)
      .refine((p) => !PRINCIPAL_REFUSED.test(p), {
        message: "must not contain control or format characters",
      })
      .refine((p) => canonicalPrincipal(p) !== "", { message: "must not be empty" }),
    roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length),
    tenant_ids: z.array(id).min(1).max(1000).nullish(),
  })
  .meta({ id: "KeyCreate" });

const boolString = z.enum(["true", "false"]).transform((v) => v === "true");

export const policyListQuery = z.strictObject({
  tenant_id: id.optional(),
  learner_id: id.optional(),
  include_inactive: boolString.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  cursor: z.string().min(1).max(1024).optional(),
});

export const effectiveQuery = z.strictObject({ tenant_id: id, learner_id: id.optional() });

export const overridesListQuery = z.strictObject({
  tenant_id: id.optional(),
  status: z.enum(["pending", "active", "expired", "revoked"]).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  cursor: z.string().min(1).max(1024).optional(),
});

export const keysListQuery = z.strictObject({
  include_revoked: boolString.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  cursor: z.string().min(1).max(1024).optional(),
});

export const endpointsQuery = z.strictObject({ region: region.optional(), model_type: text(128).optional() });

export const auditQuery = z.strictObject({
  tenant_id: id.optional(),
  learner_id: id.optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  operation_type: z.enum([...ACCESS_OPERATIONS, ...INFERENCE_OPERATIONS]).optional(),
  allowed: boolString.optional(),
  type: z
    .string()
    .regex(/^[a-z_.]{1,64}$/)
    .optional(),
  code: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]{0,63}$/)
    .optional(),
  event_id: id.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
});

export const exportQuery = auditQuery.omit({ cursor: true, limit: true }).extend({
  format: z.enum(["jsonl", "csv"]).default("jsonl"),
});

export const verifyQuery = z.object({
  /** `checkpoint`: from the newest good checkpoint instead of the start of the chain. */
  from: z.enum(["checkpoint"]).optional(),
});

export const summaryQuery = z.strictObject({
  hours: z.coerce.number().int().min(1).max(168).default(24),
});

export const keyIdParam = z.string().regex(/^key_[a-z0-9_]{1,64}$/);

const flag = z
  .enum(["true", "false", "1", "0"])
  .optional()
  .transform((v) => v === "true" || v === "1");

export const bundlePutQuery = z.object({
  dry_run: flag,
  limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
  examples: z.coerce.number().int().min(0).max(100).default(20),
});

export const bundleListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(1024).optional(),
});

// A revision or sha256 is looked up in Postgres, which refuses NUL and lone surrogates in text:
// such a reference is a 400 here, not a store error (found by test/api/fuzz.test.ts).
export const bundleRefParam = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => s.isWellFormed() && !/\p{Cc}/u.test(s), {
    message: "must be text without control characters",
  });

export const ifMatchHeader = z
  .string()
  .regex(/^(W\/)?"?\d{1,9}"?$/, 'If-Match must be a policy version, e.g. "3"')
  .transform((v) => Number(v.replace(/^W\//, "").replaceAll('"', "")));

/** Zod issues as the envelope's details: where, and what was wrong. */
/**
 * Each issue's dotted path and, as `field`, the field it is about (the last named segment: a batch
 * item's `requests.3.purpose` is about `purpose`), so clients can key on it (SPEC §11.A1).
 */
export function issuesOf(error: z.ZodError): Array<{ path: string; field: string | null; message: string }> {
  return error.issues.map((i) => {
    const named = i.path.filter((p): p is string => typeof p === "string");
    return {
      path: i.path.map(String).join(".") || "(body)",
      field: named[named.length - 1] ?? null,
      message: i.message,
    };
  });
}

/** Set (`active: true`) or release a legal hold; both need a reason and the matter's reference. */
export const legalHoldSchema = z.strictObject({
  tenant_id: id,
  learner_id: id.optional(),
  active: z.boolean(),
  reason: text(500),
  reference: text(128),
});

export const legalHoldListQuery = z.strictObject({
  tenant_id: id.optional(),
  learner_id: id.optional(),
  active: boolString.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  cursor: z.string().min(1).max(1024).optional(),
});
