import type { z } from "zod";
import type { Api } from "../http/contract.ts";
import { ApiError, ConnectionError, type ErrorCode, type ErrorEnvelope } from "./errors.ts";

// A typed client for the Residency API, typed from the same contract table (and zod schemas) the
// service parses with and the OpenAPI document is generated from. openapi-fetch-like calls —
// `client.POST("/api/v1/access/resolve", { body })` — with path, query and body checked at
// compile time. Only `fetch`, URL and timers: no Node module, so a browser bundle can use it.
//
// Retries only where a second attempt cannot do a thing twice: GETs (idempotent) on a connection
// failure or a 502/503/504, and any method when the service answers 503 with Retry-After (it says
// nothing was done and when to come back).

export type Method = "GET" | "POST" | "PUT" | "DELETE";

type Key = keyof Api;
export type PathOf<M extends Method> = { [K in Key]: K extends `${M} ${infer P}` ? P : never }[Key];
export type OperationOf<M extends Method, P extends PathOf<M>> = Api[`${M} ${P}` & Key];

type Scalar = string | number | boolean;
type InputOf<S> = S extends z.ZodType ? z.input<S> : never;
type QueryOf<S> = { [K in keyof InputOf<S>]?: Scalar | undefined };

type ParamsPart<O> = O extends { params: infer S }
  ? { params: { [K in keyof InputOf<S>]: string } }
  : unknown;
type QueryPart<O> = O extends { query: infer S } ? { query?: QueryOf<S> } : unknown;
type BodyPart<O> = O extends { body: { raw: string } }
  ? { body: Uint8Array }
  : O extends { body: infer S }
    ? { body: InputOf<S> }
    : unknown;

export type CallOptions = {
  headers?: Record<string, string>;
  signal?: AbortSignal;
};
export type CallInit<O> = ParamsPart<O> & QueryPart<O> & BodyPart<O> & CallOptions;

export type ResponseOf<O> = O extends { response: { text: unknown } }
  ? string
  : O extends { response: infer S }
    ? S extends z.ZodType
      ? z.output<S>
      : never
    : never;

/** What every call answers: the data, or the typed error — and the raw Response either way. */
export type Result<T> =
  | { data: T; error?: undefined; response: Response }
  | { data?: undefined; error: ApiError; response: Response };

export type ClientOptions = {
  /** e.g. http://127.0.0.1:8080 (the API paths are appended). */
  baseUrl: string;
  apiKey?: string | null;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Extra attempts for safe retries (default 2). */
  retries?: number;
  /** Back-off before attempt n (1-based) when the server gave no Retry-After (default 100·2ⁿ ms). */
  backoffMs?: (attempt: number) => number;
  /** The longest Retry-After honoured; a longer one is returned as the error (default 30 s). */
  maxRetryAfterMs?: number;
  /** Per attempt (default 60 s). */
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Called with every answer (tests check bodies against the contract with it). */
  onResponse?: (info: { method: Method; path: string; status: number; body: unknown }) => void;
};

const RETRYABLE_GET = new Set([502, 503, 504]);

export function createClient(options: ClientOptions) {
  const base = normalizeBaseUrl(options.baseUrl);
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const retries = options.retries ?? 2;
  const backoff = options.backoffMs ?? ((n: number) => 100 * 2 ** n);
  const maxRetryAfter = options.maxRetryAfterMs ?? 30_000;

  /**
   * The untyped door the typed methods go through: a concrete path (query string included), a
   * JSON or raw body. For paths only known at run time; prefer GET/POST/PUT/DELETE.
   */
  async function request(
    method: Method,
    pathTemplate: string,
    init: {
      params?: Record<string, string>;
      query?: Record<string, Scalar | undefined>;
      body?: unknown;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    } = {},
  ): Promise<Result<unknown>> {
    const path = fillPath(pathTemplate, init.params) + queryString(init.query);
    const url = base + path;
    const raw = init.body instanceof Uint8Array;
    const headers: Record<string, string> = {
      accept: "application/json",
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      ...(init.body === undefined ? {} : { "content-type": raw ? "application/gzip" : "application/json" }),
      ...options.headers,
      ...init.headers,
    };
    const body =
      init.body === undefined ? undefined : raw ? (init.body as Uint8Array) : JSON.stringify(init.body);

    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        const signals = [
          AbortSignal.timeout(options.timeoutMs ?? 60_000),
          ...(init.signal ? [init.signal] : []),
        ];
        response = await doFetch(url, {
          method,
          headers,
          ...(body === undefined ? {} : { body: body as string | Uint8Array<ArrayBuffer> }),
          signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0]!,
        });
      } catch (err) {
        if (init.signal?.aborted) throw err;
        if (method === "GET" && attempt < retries) {
          await sleep(backoff(attempt + 1));
          continue;
        }
        throw new ConnectionError(base, err);
      }
      const wait = retryWait(method, response, attempt);
      if (wait !== null) {
        await response.body?.cancel();
        await sleep(wait);
        continue;
      }
      const parsed = await readBody(response);
      options.onResponse?.({ method, path, status: response.status, body: parsed });
      if (response.ok) return { data: parsed, response };
      return { error: toApiError(response, parsed), response };
    }

    function retryWait(m: Method, res: Response, attempt: number): number | null {
      if (attempt >= retries) return null;
      const after = retryAfterMs(res.headers.get("retry-after"));
      if (res.status === 503 && after !== null) return after <= maxRetryAfter ? after : null;
      if (m === "GET" && RETRYABLE_GET.has(res.status)) return backoff(attempt + 1);
      return null;
    }
  }

  const typed =
    <M extends Method>(method: M) =>
    <P extends PathOf<M>>(
      path: P,
      // biome-ignore lint/complexity/noBannedTypes: `{} extends T` asks whether T has no required field
      ...init: {} extends CallInit<OperationOf<M, P>>
        ? [CallInit<OperationOf<M, P>>?]
        : [CallInit<OperationOf<M, P>>]
    ): Promise<Result<ResponseOf<OperationOf<M, P>>>> =>
      request(method, path, (init[0] ?? {}) as Parameters<typeof request>[2]) as Promise<
        Result<ResponseOf<OperationOf<M, P>>>
      >;

  return {
    baseUrl: base,
    GET: typed("GET"),
    POST: typed("POST"),
    PUT: typed("PUT"),
    DELETE: typed("DELETE"),
    request,
  };
}

export type Client = ReturnType<typeof createClient>;

/** The data of a result, or its error thrown: `const d = orThrow(await client.GET(...))`. */
export function orThrow<T>(result: Result<T>): T {
  if (result.error) throw result.error;
  return result.data as T;
}

/**
 * `127.0.0.1:8080` and `localhost:8080` are read as http://; anything else that is not an
 * absolute http(s) URL is refused with a message saying what was expected.
 */
export function normalizeBaseUrl(input: string): string {
  const text = input.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(`not a URL: "${input}" (expected e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`unsupported scheme "${url.protocol}" in "${input}" (use http:// or https://)`);
  }
  if (url.search || url.hash) throw new TypeError(`"${input}": a base URL has no query or fragment`);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function fillPath(template: string, params: Record<string, string> | undefined): string {
  return template.replace(/\{([A-Za-z_]+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined) throw new TypeError(`missing path parameter ${name} for ${template}`);
    return encodeURIComponent(value);
  });
}

function queryString(query: Record<string, Scalar | undefined> | undefined): string {
  if (!query) return "";
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!(response.headers.get("content-type") ?? "").includes("json")) return text;
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: "VALIDATION_FAILED",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  422: "POLICY_VIOLATION",
  503: "POLICY_UNAVAILABLE",
};

function toApiError(response: Response, body: unknown): ApiError {
  const e = (body as Partial<ErrorEnvelope> | null)?.error;
  const requestId = e?.request_id ?? response.headers.get("x-request-id");
  if (e && typeof e.code === "string") {
    return new ApiError(e.code, response.status, e.message ?? "", e.details ?? null, requestId);
  }
  // No envelope (a proxy in between, a probe's own body): the status still names a code.
  const code = STATUS_CODES[response.status] ?? "INTERNAL";
  const text = typeof body === "string" ? body.slice(0, 200) : `HTTP ${response.status}`;
  return new ApiError(code, response.status, text, body, requestId);
}

function retryAfterMs(header: string | null): number | null {
  if (header === null) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
