import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../errors.ts";
import { API, type Operation } from "./contract.ts";
import { errorEnvelopeSchema } from "./responses.ts";

// The OpenAPI 3.1 document of every route in the contract table, generated from the same zod
// schemas that parse the requests. Served at GET /openapi.json; docs/api.md is rendered from it.

const requestIdHeader = z.object({
  "x-request-id": z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/)
    .optional()
    .meta({ description: "Echoed, stored with the audit record; generated when absent or malformed" }),
});

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31["generateDocument"]>;

const ERROR_TEXT: Record<ErrorCode, string> = {
  VALIDATION_FAILED: "the request failed validation (details: [{path, message}])",
  UNAUTHENTICATED: "missing, malformed, unknown or revoked API key",
  FORBIDDEN: "the key lacks the role, or the tenant is outside its scope",
  NOT_FOUND: "no such resource (or outside the key's scope)",
  CONFLICT: "the resource changed (stale If-Match) or the transition is not allowed",
  PAYLOAD_TOO_LARGE: "the body is too large",
  UNSUPPORTED_MEDIA_TYPE: "wrong Content-Type",
  POLICY_VIOLATION: "refused by the rules (details say which)",
  INTERNAL: "unexpected server error (the message hides the cause; the request id finds it in the log)",
  POLICY_UNAVAILABLE: "no bundle active, or the bundle cannot evaluate this input: nothing decided",
  AUDIT_UNAVAILABLE: "the audit record could not be committed: nothing decided or changed",
  STORE_UNAVAILABLE: "the store is unreachable",
};

/** The codes a route can answer: its own, plus what every route with a key or with input can. */
export function errorCodesOf(op: Operation): ErrorCode[] {
  const codes = new Set<ErrorCode>();
  if (op.params || op.query || op.headers || op.body) codes.add("VALIDATION_FAILED");
  if (op.roles !== "none") codes.add("UNAUTHENTICATED");
  if (op.roles !== "none" && op.roles !== "any") codes.add("FORBIDDEN");
  for (const c of op.errors ?? []) codes.add(c);
  codes.add("INTERNAL");
  return [...codes].sort((a, b) => ERROR_STATUS[a] - ERROR_STATUS[b]);
}

export function rolesText(roles: Operation["roles"]): string {
  if (roles === "none") return "no key";
  if (roles === "any") return "any key";
  return roles.join(", ");
}

export function createOpenApiDocument(info: { version: string }): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "Authorization: Bearer <api key>",
  });

  for (const [key, op] of Object.entries(API) as Array<[string, Operation]>) {
    const [upper, path] = key.split(" ") as [string, string];
    const method = upper.toLowerCase() as "get" | "post" | "put" | "delete";
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of errorCodesOf(op)) {
      const status = ERROR_STATUS[code];
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    const errorResponses = Object.fromEntries(
      [...byStatus].map(([status, codes]) => [
        status,
        {
          description: codes.map((c) => `${c}: ${ERROR_TEXT[c]}`).join("; "),
          content: { "application/json": { schema: errorEnvelopeSchema } },
        },
      ]),
    );
    const success =
      "text" in op.response
        ? Object.fromEntries(op.response.text.map((t) => [t, { schema: { type: "string" as const } }]))
        : { "application/json": { schema: op.response } };
    const body =
      op.body === undefined
        ? undefined
        : "raw" in op.body
          ? {
              content: { [op.body.raw]: { schema: { type: "string" as const, format: "binary" } } },
              required: true,
            }
          : {
              content: {
                "application/json": {
                  schema: op.body,
                  ...(op.example === undefined ? {} : { example: op.example }),
                },
              },
              required: true,
            };
    registry.registerPath({
      method,
      path,
      operationId: operationId(method, path),
      summary: op.summary,
      description: [
        op.description,
        `Roles: ${rolesText(op.roles)}.`,
        op.scope ? `Tenant-scoped keys: ${op.scope}.` : undefined,
      ]
        .filter(Boolean)
        .join("\n\n"),
      tags: [tagOf(path)],
      "x-roles": op.roles === "none" || op.roles === "any" ? op.roles : [...op.roles],
      security: op.roles === "none" ? [] : [{ apiKey: [] }],
      request: {
        ...(op.params ? { params: op.params } : {}),
        ...(op.query ? { query: op.query } : {}),
        headers: op.headers ? op.headers.extend(requestIdHeader.shape) : requestIdHeader,
        ...(body ? { body } : {}),
      },
      responses: {
        [op.status]: { description: op.summary, content: success },
        ...errorResponses,
      },
    });
  }

  const generator = new OpenApiGeneratorV31(registry.definitions);
  return generator.generateDocument({
    openapi: "3.1.0",
    info: {
      title: "Residency",
      version: info.version,
      description:
        "Policy-as-code data-residency decisions. JSON, snake_case; `X-Request-ID` accepted or generated, echoed. Every error uses the envelope `{error: {code, message, details, request_id}}`. A deny is a decision: 200 with `allowed: false`. Every listing answers `{items, next_cursor}`.",
    },
    security: [{ apiKey: [] }],
  });
}

function tagOf(path: string): string {
  const m = /^\/api\/v1\/([a-z-]+)/.exec(path);
  return m ? m[1]! : "operations";
}

function operationId(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v1\//, "")
    .replace(/[{}]/g, "")
    .split(/[/._-]+/)
    .filter(Boolean);
  return [method, ...words].map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join("");
}
