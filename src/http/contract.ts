import { z } from "zod";
import type { ErrorCode } from "../errors.ts";
import {
  accessBatchResponseSchema,
  accessDecisionSchema,
  auditArchivesSchema,
  auditContextSchema,
  auditPageSchema,
  auditSummarySchema,
  auditVerifySchema,
  bundleActivationsSchema,
  bundleHistorySchema,
  bundlePublishedSchema,
  bundleSummarySchema,
  catalogPageSchema,
  createdKeySchema,
  dryRunReportSchema,
  effectivePolicySchema,
  healthSchema,
  inferenceDecisionSchema,
  keyPageSchema,
  keyRevokedSchema,
  keySelfSchema,
  legalHoldPageSchema,
  legalHoldSchema as legalHoldResponseSchema,
  openApiDocumentSchema,
  overridePageSchema,
  overrideSchema,
  policyPageSchema,
  policySchema,
  policyWrittenSchema,
  presignResponseSchema,
  regionPageSchema,
  regionSchema,
  verifyJobSchema,
} from "./responses.ts";
import {
  accessBatchSchema,
  accessRequestSchema,
  auditQuery,
  bundleListQuery,
  bundlePutQuery,
  bundleRefParam,
  contextSha,
  effectiveQuery,
  endpointsQuery,
  exportQuery,
  healthUpdateSchema,
  id,
  inferenceRequestSchema,
  keyCreateSchema,
  keyIdParam,
  keysListQuery,
  legalHoldListQuery,
  legalHoldSchema,
  overrideRequestSchema,
  overridesListQuery,
  policyDocumentSchema,
  policyListQuery,
  presignRequestSchema,
  region,
  revokeRequestSchema,
  summaryQuery,
  verifyQuery,
} from "./schemas.ts";

// Every route the service answers (SPEC §6), in one table: who may call it, what it takes, what it
// answers. The OpenAPI document (GET /openapi.json, docs/api.md) is generated from it, the typed
// client (src/client/) is typed from it, and a test fails when the routers answer a route this
// table does not hold, or the other way round.

export type Access = "none" | "any" | ReadonlyArray<string>;

export type Operation = {
  summary: string;
  description?: string;
  /** "none": no key; "any": any valid key; else one of these roles (admin always passes). */
  roles: Access;
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  /** A JSON body, or a raw one of this media type. */
  body?: z.ZodType | { raw: string };
  status: 200 | 201 | 202;
  /** JSON (a zod schema) or a text body of this media type. */
  response: z.ZodType | { text: ReadonlyArray<string> };
  /** Error codes beyond what every route can answer (401/403 with a key, 400 with input). */
  errors?: ReadonlyArray<ErrorCode>;
  /** Scoped keys: what the tenant scope does on this route. */
  scope?: string;
  example?: unknown;
};

const tenantParam = z.strictObject({ tenant_id: id });
const policyParam = z.strictObject({ policy_id: id });
const overrideParam = z.strictObject({ id });
const regionParam = z.strictObject({ code: region });
const tenantHeader = z.object({ "x-tenant-id": id.optional() });
const ifMatch = z.object({
  "if-match": z.string().optional().meta({ description: 'Policy version, e.g. "3"' }),
});

export const API = {
  "POST /api/v1/access/resolve": {
    summary: "Access decision (where this data may be stored or processed)",
    roles: ["service"],
    body: accessRequestSchema,
    status: 200,
    response: accessDecisionSchema,
    errors: ["POLICY_UNAVAILABLE", "AUDIT_UNAVAILABLE", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"],
    scope: "403 for a tenant outside the key's scope",
    example: {
      tenant_id: "acme-edu",
      learner_id: "student-123",
      operation_type: "read",
      resource_type: "document",
      resource_id: "assignment-456",
      requested_region: "us-west",
    },
  },
  "POST /api/v1/access/resolve-batch": {
    summary: "Up to 100 access decisions in one call, answered in order, committed together",
    description:
      "Each item is a full decision with its own decision_id and audit record; all records commit in one append. An invalid item ⇒ 400 naming its index (details[].path = requests.<i>.<field>); an item outside the key's scope ⇒ 403 (details.index); nothing is decided or audited in either case.",
    roles: ["service"],
    body: accessBatchSchema,
    status: 200,
    response: accessBatchResponseSchema,
    errors: ["POLICY_UNAVAILABLE", "AUDIT_UNAVAILABLE", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"],
    scope: "403 when any item's tenant is outside the key's scope",
  },
  "POST /api/v1/inference/route": {
    summary: "Inference routing: which provider, model and region may serve this request",
    roles: ["service"],
    headers: tenantHeader,
    body: inferenceRequestSchema,
    status: 200,
    response: inferenceDecisionSchema,
    errors: ["POLICY_UNAVAILABLE", "AUDIT_UNAVAILABLE", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"],
    scope: "403 for a tenant outside the key's scope",
    example: {
      tenant_id: "acme-edu",
      model_type: "claude-3-haiku",
      learner_id: "student-123",
      operation_type: "inference",
      data_classification: "educational",
    },
  },
  "POST /api/v1/storage/presign": {
    summary: "Decision and, when allowed, a presigned S3 URL in the target region's bucket",
    roles: ["service"],
    body: presignRequestSchema,
    status: 200,
    response: presignResponseSchema,
    errors: ["POLICY_UNAVAILABLE", "AUDIT_UNAVAILABLE", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"],
    scope: "403 for a tenant outside the key's scope",
    example: { tenant_id: "acme-edu", operation: "write", key: "reports/q3.pdf", expires_in: 300 },
  },
  "GET /api/v1/inference/endpoints": {
    summary: "The provider catalog of the active bundle",
    roles: ["service"],
    query: endpointsQuery,
    status: 200,
    response: catalogPageSchema,
    errors: ["POLICY_UNAVAILABLE"],
  },
  "POST /api/v1/policies": {
    summary: "Create a policy; replaces the active policy of the same tenant/learner as a new version",
    roles: ["policy_admin"],
    body: policyDocumentSchema,
    status: 201,
    response: policyWrittenSchema,
    errors: ["POLICY_VIOLATION", "AUDIT_UNAVAILABLE", "PAYLOAD_TOO_LARGE"],
    scope: "403 for a tenant outside the key's scope",
    example: { tenant_id: "acme-edu", primary_region: "us-east", compliance_frameworks: ["ferpa"] },
  },
  "GET /api/v1/policies": {
    summary: "List policies (active ones unless include_inactive=true)",
    roles: ["policy_admin", "auditor"],
    query: policyListQuery,
    status: 200,
    response: policyPageSchema,
    scope: "filtered to the key's tenants; 403 for a tenant_id outside them",
  },
  "GET /api/v1/policies/effective": {
    summary: "The merged policy a decision would use, with the source of every field",
    roles: ["policy_admin", "service"],
    query: effectiveQuery,
    status: 200,
    response: effectivePolicySchema,
    errors: ["NOT_FOUND"],
  },
  "GET /api/v1/policies/id/{policy_id}": {
    summary: "Read a policy (ETag: its version)",
    roles: ["policy_admin", "auditor"],
    params: policyParam,
    status: 200,
    response: policySchema,
    errors: ["NOT_FOUND"],
    scope: "404 for a policy outside the key's scope (ids leak nothing)",
  },
  "GET /api/v1/policies/id/{policy_id}/versions": {
    summary: "Every version of a policy, newest first",
    roles: ["policy_admin", "auditor"],
    params: policyParam,
    status: 200,
    response: policyPageSchema,
    errors: ["NOT_FOUND"],
  },
  "PUT /api/v1/policies/id/{policy_id}": {
    summary: "New version of a policy (If-Match: <version> ⇒ 409 when stale)",
    roles: ["policy_admin"],
    params: policyParam,
    headers: ifMatch,
    body: policyDocumentSchema,
    status: 200,
    response: policyWrittenSchema,
    errors: ["NOT_FOUND", "CONFLICT", "POLICY_VIOLATION", "AUDIT_UNAVAILABLE"],
  },
  "DELETE /api/v1/policies/id/{policy_id}": {
    summary: "Deactivate a policy",
    roles: ["policy_admin"],
    params: policyParam,
    status: 200,
    response: policySchema,
    errors: ["NOT_FOUND", "AUDIT_UNAVAILABLE"],
  },
  "GET /api/v1/policies/{tenant_id}": {
    summary: "List a tenant's policies",
    roles: ["policy_admin", "auditor"],
    params: tenantParam,
    query: policyListQuery.omit({ tenant_id: true }),
    status: 200,
    response: policyPageSchema,
  },
  "POST /api/v1/emergency/override": {
    summary: "Request a break-glass override (pending until approved)",
    roles: ["service", "policy_admin"],
    body: overrideRequestSchema,
    status: 201,
    response: overrideSchema,
    errors: ["POLICY_VIOLATION", "AUDIT_UNAVAILABLE"],
    example: {
      tenant_id: "acme-edu",
      target_region: "ca-central",
      reason: "incident INC-42: primary region outage",
      ticket: "INC-42",
      duration_hours: 4,
    },
  },
  "GET /api/v1/emergency/override/{id}": {
    summary: "One override with its status and use count",
    roles: ["approver", "auditor", "service", "policy_admin"],
    params: overrideParam,
    status: 200,
    response: overrideSchema,
    errors: ["NOT_FOUND"],
  },
  "POST /api/v1/emergency/override/{id}/approve": {
    summary: "Approve (by a principal other than the requester)",
    roles: ["approver"],
    params: overrideParam,
    status: 200,
    response: overrideSchema,
    errors: ["NOT_FOUND", "CONFLICT", "AUDIT_UNAVAILABLE"],
  },
  "POST /api/v1/emergency/override/{id}/revoke": {
    summary: "Revoke at once",
    roles: ["approver"],
    params: overrideParam,
    body: revokeRequestSchema,
    status: 200,
    response: overrideSchema,
    errors: ["NOT_FOUND", "AUDIT_UNAVAILABLE"],
  },
  "GET /api/v1/emergency/overrides": {
    summary: "List overrides, newest first, with use counts",
    roles: ["approver", "auditor"],
    query: overridesListQuery,
    status: 200,
    response: overridePageSchema,
  },
  "GET /api/v1/regions": {
    summary: "The region catalog with health",
    roles: "any",
    status: 200,
    response: regionPageSchema,
  },
  "GET /api/v1/regions/{code}": {
    summary: "One region",
    roles: "any",
    params: regionParam,
    status: 200,
    response: regionSchema,
  },
  "PUT /api/v1/regions/{code}/health": {
    summary: "Set a region's health (unscoped keys only)",
    roles: ["operator"],
    params: regionParam,
    body: healthUpdateSchema,
    status: 200,
    response: regionSchema,
    errors: ["AUDIT_UNAVAILABLE"],
    example: { status: "degraded", reason: "provider incident" },
  },
  "GET /api/v1/audit/access-logs": {
    summary: "Audit records, newest first",
    roles: ["auditor"],
    query: auditQuery,
    status: 200,
    response: auditPageSchema,
    scope: "filtered to the key's tenants",
  },
  "GET /api/v1/audit/access-logs/{tenant_id}": {
    summary: "A tenant's audit records, newest first",
    roles: ["auditor"],
    params: tenantParam,
    query: auditQuery,
    status: 200,
    response: auditPageSchema,
  },
  "GET /api/v1/audit/contexts/{hash}": {
    summary:
      "A compact record's evaluation context by its context_sha256 (the body hashes to it); scoped keys see only contexts naming their tenants",
    roles: ["auditor"],
    params: z.strictObject({ hash: contextSha }),
    status: 200,
    response: auditContextSchema,
    errors: ["NOT_FOUND"],
  },
  "GET /api/v1/audit/verify": {
    summary: "Walk the hash chain (unscoped keys only); from=checkpoint starts at the newest good checkpoint",
    roles: ["auditor"],
    query: verifyQuery,
    status: 200,
    response: auditVerifySchema,
  },
  "POST /api/v1/audit/verify/jobs": {
    summary: "Start the full chain walk as a job (202; the job already running is answered instead)",
    roles: ["auditor"],
    status: 202,
    response: verifyJobSchema,
  },
  "GET /api/v1/audit/verify/jobs/{job_id}": {
    summary: "A verify job's progress and outcome (jobs live on the instance that runs them)",
    roles: ["auditor"],
    params: z.strictObject({ job_id: z.string().min(1).max(128) }),
    status: 200,
    response: verifyJobSchema,
    errors: ["NOT_FOUND"],
  },
  "GET /api/v1/audit/archives": {
    summary:
      "Archived ranges of the chain and where they are (unscoped keys only): what `residency audit verify` checks offline",
    roles: ["auditor"],
    status: 200,
    response: auditArchivesSchema,
  },
  "GET /api/v1/audit/summary": {
    summary: "Decisions per hour by outcome and the top deny codes (the console's overview)",
    roles: ["auditor"],
    query: summaryQuery,
    status: 200,
    response: auditSummarySchema,
    scope: "counted over the key's tenants only",
  },
  "GET /api/v1/audit/export": {
    summary: "Streamed export as JSON lines or CSV",
    roles: ["auditor"],
    query: exportQuery,
    status: 200,
    response: { text: ["application/x-ndjson", "text/csv"] },
  },
  "GET /api/v1/bundles/active": {
    summary: "The bundle this instance serves",
    roles: "any",
    status: 200,
    response: bundleSummarySchema,
    errors: ["POLICY_UNAVAILABLE"],
  },
  "GET /api/v1/bundles": {
    summary: "Stored bundles (newest first, with next_cursor) and the recent activations",
    roles: "any",
    query: bundleListQuery,
    status: 200,
    response: bundleHistorySchema,
    errors: ["STORE_UNAVAILABLE"],
  },
  "GET /api/v1/bundles/activations": {
    summary: "Every activation of a bundle, newest first (with next_cursor)",
    roles: "any",
    query: bundleListQuery,
    status: 200,
    response: bundleActivationsSchema,
    errors: ["STORE_UNAVAILABLE"],
  },
  "PUT /api/v1/bundles": {
    summary: "Upload and activate a bundle (?dry_run=true: impact analysis, activates nothing)",
    description:
      "Answers 201 when the bundle was activated, 200 when it already was the active one or for a dry run (then the body is a BundleDryRun). A refused bundle is 422 POLICY_VIOLATION with details.code (BUNDLE_SIGNATURE_INVALID, …).",
    roles: ["bundle_publisher"],
    query: bundlePutQuery,
    body: { raw: "application/gzip" },
    status: 201,
    response: z.union([bundlePublishedSchema, dryRunReportSchema]),
    errors: ["POLICY_VIOLATION", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "STORE_UNAVAILABLE"],
  },
  "POST /api/v1/bundles/{revision}/activate": {
    summary: "Serve a stored bundle again (rollback), by revision or sha256",
    roles: ["bundle_publisher"],
    params: z.strictObject({ revision: bundleRefParam }),
    status: 200,
    response: bundlePublishedSchema,
    errors: ["NOT_FOUND", "POLICY_VIOLATION", "STORE_UNAVAILABLE"],
  },
  "PUT /api/v1/legal-holds": {
    summary: "Set or release a tenant's or a learner's legal hold (audited before the answer)",
    description:
      "While active, a delete answers DENY_LEGAL_HOLD (targets still listed) and every other decision carries flag LEGAL_HOLD. Release needs a reason too.",
    roles: ["legal_admin"],
    body: legalHoldSchema,
    status: 200,
    response: legalHoldResponseSchema,
    errors: ["AUDIT_UNAVAILABLE"],
    scope: "403 for a tenant outside the key's scope",
    example: {
      tenant_id: "acme-edu",
      learner_id: "student-123",
      active: true,
      reason: "litigation hold",
      reference: "CASE-2026-17",
    },
  },
  "GET /api/v1/legal-holds": {
    summary: "Legal holds in the key's scope",
    roles: ["legal_admin", "auditor", "policy_admin"],
    query: legalHoldListQuery,
    status: 200,
    response: legalHoldPageSchema,
    scope: "only the key's tenants",
  },
  "GET /api/v1/keys/self": {
    summary: "Who this key is: id, principal, roles, tenant scope — never the secret",
    roles: "any",
    status: 200,
    response: keySelfSchema,
  },
  "GET /api/v1/keys": {
    summary: "API keys: ids, principals, roles, scopes, created/revoked — never the secret",
    roles: ["admin"],
    query: keysListQuery,
    status: 200,
    response: keyPageSchema,
  },
  "POST /api/v1/keys": {
    summary: "Create an API key; the secret is in this answer only",
    roles: ["admin"],
    body: keyCreateSchema,
    status: 201,
    response: createdKeySchema,
    errors: ["AUDIT_UNAVAILABLE"],
    example: { principal: "storage-service", roles: ["service"], tenant_ids: ["acme-edu"] },
  },
  "DELETE /api/v1/keys/{id}": {
    summary: "Revoke an API key",
    roles: ["admin"],
    params: z.strictObject({ id: keyIdParam }),
    status: 200,
    response: keyRevokedSchema,
    errors: ["NOT_FOUND", "AUDIT_UNAVAILABLE"],
  },
  "GET /health/live": { summary: "Liveness", roles: "none", status: 200, response: healthSchema },
  "GET /health/ready": {
    summary: "Readiness: a bundle active and the store reachable (503 otherwise)",
    roles: "none",
    status: 200,
    response: healthSchema,
  },
  "GET /health": { summary: "Readiness with details", roles: "none", status: 200, response: healthSchema },
  "GET /metrics": {
    summary: "Prometheus metrics",
    roles: "none",
    status: 200,
    response: { text: ["text/plain"] },
  },
  "GET /openapi.json": {
    summary: "This document",
    roles: "none",
    status: 200,
    response: openApiDocumentSchema,
  },
} as const satisfies Record<string, Operation>;

export type Api = typeof API;
export type OperationKey = keyof Api;
