import { z } from "zod";
import { REGION_HEALTH } from "../domain/vocabulary.ts";
import { ERROR_STATUS } from "../errors.ts";
import { policyDocumentSchema, region } from "./schemas.ts";

// What the API answers, as zod schemas: the OpenAPI document and the typed client both read them.
// They describe the binding names of SPEC §6; objects are loose (more fields are fine) so a
// client built today keeps working when a field is added.

const instant = z.iso.datetime({ offset: true });

export const errorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.enum(
        Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...Array<keyof typeof ERROR_STATUS>],
      ),
      message: z.string(),
      details: z.unknown().nullable(),
      request_id: z.string(),
    }),
  })
  .meta({
    id: "ErrorEnvelope",
    example: {
      error: {
        code: "VALIDATION_FAILED",
        message: "request body failed validation",
        details: [{ path: "operation_type", message: "Invalid option" }],
        request_id: "2b1f0b0e-6c1d-4d53-a3b8-4bb5b0c5c1a2",
      },
    },
  });

const reasonSchema = z.object({
  code: z.string(),
  decided_by: z.string(),
  framework: z.string().nullable(),
  message: z.string(),
});

const infrastructureSchema = z.looseObject({
  storage: z.looseObject({
    bucket: z.string(),
    backup_bucket: z.string(),
    s3_region: z.string(),
    endpoint: z.string(),
  }),
  search: z.looseObject({ domain: z.string(), endpoint: z.string() }),
});

const decisionFields = {
  decision_id: z
    .string()
    .describe("The decision's audit record's event_id: a time-ordered UUID (RFC 9562 version 7)"),
  allowed: z.boolean(),
  target_region: region.nullable(),
  reason: reasonSchema,
  reasons: z.array(reasonSchema),
  legal_regions: z.array(region),
  permitted_regions: z.array(region),
  eliminated: z.record(z.string(), z.string()),
  frameworks: z.array(z.string()),
  obligations: z.looseObject({
    retention_days: z.number().nullable(),
    erasure_deadline_days: z.number().nullable(),
    encryption_at_rest: z.boolean(),
    notify: z.array(z.string()),
  }),
  override_id: z.string().nullable(),
  failover: z.boolean(),
  infrastructure: infrastructureSchema.nullable(),
  flags: z.array(z.string()),
  policy: z.object({ policy_id: z.string(), version: z.number().int() }).nullable(),
  bundle_revision: z.string(),
  evaluated_at: instant,
};

const ACCESS_EXAMPLE = {
  decision_id: "01a21c3b-a280-7a78-af8e-f88d80bff6ff",
  allowed: true,
  target_region: "us-west",
  reason: {
    code: "ALLOW_PERMITTED_REGION",
    decided_by: "tenant_set",
    framework: null,
    message: "us-west is permitted for this learner",
  },
  reasons: [],
  legal_regions: ["us-east", "us-west", "ca-central"],
  permitted_regions: ["us-east", "us-west", "ca-central"],
  eliminated: { "eu-west": "NOT_IN_ALLOWED_REGIONS" },
  frameworks: ["ferpa", "coppa"],
  obligations: { retention_days: 2555, erasure_deadline_days: null, encryption_at_rest: true, notify: [] },
  override_id: null,
  failover: false,
  infrastructure: {
    storage: {
      bucket: "residency-data-us-west",
      backup_bucket: "residency-backup-us-west",
      s3_region: "us-west-2",
      endpoint: "https://s3.us-west-2.amazonaws.com",
    },
    search: {
      domain: "residency-search-us-west",
      endpoint: "https://residency-search-us-west.us-west-2.es.amazonaws.com",
    },
  },
  flags: [],
  policy: { policy_id: "pol_91d9520c52fa4613b1cb636fec86a735", version: 2 },
  bundle_revision: "rev-3a4beca06111",
  evaluated_at: "2026-11-27T09:00:00.000Z",
};

export const accessDecisionSchema = z
  .looseObject({
    ...decisionFields,
    erasure_targets: z.array(region).optional(),
    deferred: z.array(region).optional(),
  })
  .meta({ id: "AccessDecision", example: ACCESS_EXAMPLE });

export const accessBatchResponseSchema = z
  .object({ decisions: z.array(accessDecisionSchema) })
  .meta({ id: "AccessBatchDecisions" });

export const inferenceDecisionSchema = z
  .looseObject({
    ...decisionFields,
    provider: z.string().nullable(),
    model: z.string().nullable(),
    endpoint: z.string().nullable(),
    route: z.string().nullable(),
    provider_region: region.nullable(),
    destinations: z.array(region).nullable(),
    fallback_used: z.boolean().nullable(),
    rejected_candidates: z.array(
      z.looseObject({ provider: z.string(), region: z.string(), code: z.string() }),
    ),
  })
  .meta({ id: "InferenceDecision" });

export const presignResponseSchema = z
  .looseObject({
    ...decisionFields,
    url: z.string().optional(),
    method: z.enum(["GET", "PUT"]).optional(),
    bucket: z.string().optional(),
    key: z.string().optional(),
    expires_at: instant.optional(),
  })
  .meta({ id: "PresignDecision" });

const page = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() }).meta({
    id,
    description: "A page: next_cursor is non-null exactly when more items follow (pass it as cursor).",
  });

const legalHoldViewSchema = z
  .object({
    active: z.boolean(),
    reason: z.string().nullable(),
    reference: z.string().nullable(),
    set_by: z.string().nullable(),
    set_at: z.string().nullable(),
  })
  .meta({ id: "LegalHoldView", description: "Read-only: set through /api/v1/legal-holds" });

export const legalHoldSchema = z
  .object({
    tenant_id: z.string(),
    learner_id: z.string().nullable(),
    active: z.boolean(),
    reason: z.string(),
    reference: z.string(),
    set_by: z.string(),
    set_at: instant,
  })
  .meta({ id: "LegalHold" });

export const legalHoldPageSchema = page(legalHoldSchema, "LegalHoldPage");

export const policySchema = z
  .looseObject({
    ...policyDocumentSchema.shape,
    legal_hold: legalHoldViewSchema,
    policy_id: z.string(),
    version: z.number().int(),
    is_active: z.boolean(),
    created_at: instant,
    updated_at: instant,
    created_by: z.string(),
  })
  .meta({ id: "Policy" });

const violationSchema = z.object({
  code: z.string(),
  field: z.string(),
  framework: z.string().nullable(),
  message: z.string(),
});

export const policyWrittenSchema = z
  .looseObject({ ...policySchema.shape, warnings: z.array(violationSchema) })
  .meta({ id: "PolicyWritten" });

export const policyPageSchema = page(policySchema, "PolicyPage");

export const effectivePolicySchema = z
  .looseObject({
    tenant_id: z.string(),
    learner_id: z.string().nullable(),
    policy: z.record(z.string(), z.unknown()),
    provenance: z.record(z.string(), z.string()),
    sources: z.object({
      tenant: z.object({ policy_id: z.string(), version: z.number().int() }),
      learner: z.object({ policy_id: z.string(), version: z.number().int() }).nullable(),
    }),
  })
  .meta({ id: "EffectivePolicy" });

export const overrideSchema = z
  .looseObject({
    override_id: z.string(),
    status: z.enum(["pending", "active", "expired", "revoked"]),
    tenant_id: z.string(),
    learner_ids: z.array(z.string()).nullable(),
    target_region: region,
    operations: z.array(z.string()).nullable(),
    reason: z.string(),
    ticket: z.string(),
    requested_by: z.string(),
    approvals: z.array(z.object({ principal: z.string(), at: instant })),
    expires_at: instant,
    use_count: z.number().int(),
    required_approvals: z.number().int(),
  })
  .meta({ id: "Override" });

export const overridePageSchema = page(overrideSchema, "OverridePage");

export const regionSchema = z
  .looseObject({
    code: region,
    name: z.string(),
    location: z.string(),
    jurisdiction: z.string(),
    certifications: z.array(z.string()),
    health: z.enum(REGION_HEALTH),
    health_reason: z.string().nullable(),
    infrastructure: infrastructureSchema,
  })
  .meta({ id: "Region" });

export const regionPageSchema = page(regionSchema, "RegionPage");

export const catalogEntrySchema = z
  .looseObject({
    provider: z.string(),
    region,
    models: z.array(z.string()),
    endpoint: z.string(),
    route: z.string(),
    destinations: z.array(region),
  })
  .meta({ id: "CatalogEntry" });

export const catalogPageSchema = page(catalogEntrySchema, "CatalogPage");

export const createdKeySchema = z
  .object({
    key_id: z.string(),
    key: z.string().meta({ description: "The secret: shown in this answer only, stored hashed." }),
    principal: z.string(),
    roles: z.array(z.string()),
    tenant_ids: z.array(z.string()).nullable(),
    created_at: instant,
  })
  .meta({ id: "CreatedKey" });

export const keySummarySchema = z
  .object({
    key_id: z.string(),
    principal: z.string(),
    roles: z.array(z.string()),
    tenant_ids: z.array(z.string()).nullable(),
    created_at: instant,
    created_by: z.string().nullable(),
    revoked_at: instant.nullable(),
  })
  .meta({ id: "KeySummary" });

export const keyPageSchema = page(keySummarySchema, "KeyPage");

export const keySelfSchema = z
  .object({
    key_id: z.string(),
    principal: z.string(),
    roles: z.array(z.string()),
    tenant_ids: z.array(z.string()).nullable(),
  })
  .meta({ id: "KeySelf" });

export const auditSummarySchema = z
  .looseObject({
    from: instant,
    to: instant,
    hours: z.array(z.object({ hour: instant, allowed: z.number().int(), denied: z.number().int() })),
    top_deny_codes: z.array(z.object({ code: z.string(), count: z.number().int() })),
  })
  .meta({ id: "AuditSummary" });

export const keyRevokedSchema = z
  .object({ key_id: z.string(), revoked: z.literal(true) })
  .meta({ id: "KeyRevoked" });

export const auditRecordSchema = z
  .looseObject({
    seq: z.number().int(),
    event_id: z.string(),
    type: z.string(),
    occurred_at: instant,
    tenant_id: z.string().nullable(),
    learner_id: z.string().nullable(),
    actor: z.string().nullable(),
    request_id: z.string().nullable(),
    bundle_revision: z.string().nullable(),
    payload: z.unknown(),
    prev_hash: z.string(),
    hash: z.string(),
  })
  .meta({ id: "AuditRecord" });

export const archivedRangeSchema = z
  .object({
    archive_id: z.number().int(),
    first_seq: z.number().int(),
    last_seq: z.number().int(),
    first_occurred_at: instant,
    last_occurred_at: instant,
    location: z.string(),
  })
  .meta({ id: "ArchivedRange", description: "Records no longer in the database: this archive holds them." });

export const auditPageSchema = z
  .object({
    items: z.array(auditRecordSchema),
    next_cursor: z.string().nullable(),
    archived: z.array(archivedRangeSchema).optional(),
  })
  .meta({
    id: "AuditPage",
    description:
      "A page: next_cursor is non-null exactly when more items follow. On the last page, `archived` names the archives holding records of the query's time window that were dropped from the database.",
  });

export const auditArchiveSchema = z
  .looseObject({
    id: z.number().int(),
    first_seq: z.number().int(),
    last_seq: z.number().int(),
    first_occurred_at: instant,
    last_occurred_at: instant,
    prev_hash: z.string(),
    head_hash: z.string(),
    partition_name: z.string().nullable(),
    location: z.string(),
    manifest_sha256: z.string(),
    created_at: instant,
    dropped_at: instant.nullable(),
  })
  .meta({ id: "AuditArchive" });

export const auditArchivesSchema = page(auditArchiveSchema, "AuditArchives");

export const auditContextSchema = z
  .looseObject({
    sha256: z.string(),
    context: z
      .record(z.string(), z.unknown())
      .describe(
        "What the bundle saw besides the request and now_ms: effective policy, health, overrides, settings",
      ),
  })
  .meta({ id: "AuditContext" });

export const auditVerifySchema = z
  .looseObject({
    ok: z.boolean(),
    checked: z.number().int(),
    head_seq: z.number().int().nullable(),
    first_broken_seq: z.number().int().nullable(),
  })
  .meta({ id: "AuditVerify" });

export const verifyJobSchema = z
  .looseObject({
    job_id: z.string(),
    state: z.enum(["running", "succeeded", "failed"]),
    started_at: instant.optional(),
    finished_at: instant.nullable().optional(),
    head_seq: z.number().int().optional(),
    checked: z.number().int().optional(),
    percent: z.number().optional(),
    ok: z.boolean().nullable().optional(),
    first_broken_seq: z.number().int().nullable().optional(),
    error: z.string().nullable().optional(),
  })
  .meta({ id: "AuditVerifyJob" });

export const bundleSummarySchema = z
  .looseObject({
    revision: z.string(),
    sha256: z.string(),
    loaded_at: instant,
    entrypoints: z.array(z.string()),
    source: z.string(),
    activated_by: z.string().nullable(),
    activated_at: instant.nullable(),
    generation: z.number().int().nullable(),
    signed: z.boolean(),
    size_bytes: z.number().int(),
  })
  .meta({ id: "BundleSummary" });

export const bundlePublishedSchema = z
  .looseObject({
    ...bundleSummarySchema.shape,
    changed: z.boolean(),
    previous_revision: z.string().nullable(),
  })
  .meta({ id: "BundlePublished" });

export const bundleHistorySchema = z
  .looseObject({
    items: z.array(
      z.looseObject({
        revision: z.string(),
        sha256: z.string(),
        size_bytes: z.number().int(),
        signed: z.boolean(),
        entrypoints: z.array(z.string()),
        source: z.string(),
        uploaded_by: z.string().nullable(),
        uploaded_at: instant,
        active: z.boolean(),
        pruned_at: instant
          .nullable()
          .describe("When its bytes left the database (BUNDLE_HISTORY_KEEP); null while stored"),
        archived_location: z
          .string()
          .nullable()
          .describe("Where the pruned bytes were archived (read back before they were removed)"),
      }),
    ),
    next_cursor: z.string().nullable(),
    activations: z
      .array(z.looseObject({ generation: z.number().int(), revision: z.string(), activated_at: instant }))
      .describe("The latest activations, as many as limit; every one: GET /api/v1/bundles/activations"),
  })
  .meta({ id: "BundleHistory" });

export const bundleActivationSchema = z
  .looseObject({
    generation: z.number().int().describe("Rises by one with every activation, cluster-wide"),
    revision: z.string(),
    sha256: z.string(),
    previous_revision: z.string().nullable(),
    source: z.string().describe("What activated it: api, file, startup, rollback or watchdog"),
    activated_by: z.string().nullable(),
    activated_at: instant,
  })
  .meta({ id: "BundleActivation" });

export const bundleActivationsSchema = page(bundleActivationSchema, "BundleActivations");

export const dryRunReportSchema = z
  .looseObject({
    candidate: z.object({ revision: z.string(), sha256: z.string() }),
    active_revision: z.string().nullable(),
    baseline: z.enum(["active", "recorded"]),
    replayed: z.number().int(),
    changed: z.number().int(),
    unchanged: z.number().int(),
    errors: z.number().int(),
    transitions: z.array(
      z.object({ before: z.string().nullable(), after: z.string().nullable(), count: z.number().int() }),
    ),
    examples: z.array(z.unknown()),
  })
  .meta({
    id: "BundleDryRun",
    description: "Impact analysis: recent audited decisions replayed through the candidate.",
  });

export const healthSchema = z
  .looseObject({
    status: z.enum(["ok", "ready", "not_ready"]),
    checks: z
      .record(z.string(), z.looseObject({ ok: z.boolean(), detail: z.unknown().optional() }))
      .optional(),
  })
  .meta({ id: "Health" });

export const openApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  paths: z.record(z.string(), z.unknown()),
});
