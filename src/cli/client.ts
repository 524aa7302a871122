import { CliError } from "./output.ts";

// The HTTP side of the CLI: one request helper that turns every failure into one clear line —
// the server's error code and message, or why the server could not be reached.

export type ClientOptions = { url: string; apiKey: string | null; timeoutMs?: number };

type ErrorEnvelope = { error?: { code?: string; message?: string; details?: unknown; request_id?: string } };

export function createClient(options: ClientOptions) {
  const base = options.url.replace(/\/+$/, "");

  async function request<T>(
    method: string,
    path: string,
    body?: { bytes: Buffer; contentType: string },
  ): Promise<{ status: number; body: T }> {
    if (!options.apiKey) {
      throw new CliError("no API key: set RESIDENCY_API_KEY (or pass --api-key)");
    }
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          accept: "application/json",
          ...(body ? { "content-type": body.contentType } : {}),
        },
        ...(body ? { body: new Uint8Array(body.bytes) } : {}),
        signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new CliError(`cannot reach ${base} (${why}): is the service running? (--url or RESIDENCY_URL)`);
    }
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (res.status >= 400) {
      const e = (parsed as ErrorEnvelope | null)?.error;
      if (!e?.code)
        throw new CliError(`${method} ${path} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
      const details = e.details as { code?: string; reason?: string } | null;
      if (e.code === "POLICY_VIOLATION" && details?.code) {
        throw new CliError(`bundle rejected: ${details.code}: ${details.reason ?? e.message}`);
      }
      throw new CliError(`${e.code}: ${e.message ?? "(no message)"}`);
    }
    return { status: res.status, body: parsed as T };
  }

  return {
    base,
    get: <T>(path: string) => request<T>("GET", path),
    post: <T>(path: string) => request<T>("POST", path),
    putBundle: <T>(path: string, bytes: Buffer) =>
      request<T>("PUT", path, { bytes, contentType: "application/gzip" }),
  };
}

export type Client = ReturnType<typeof createClient>;
