import { type Client, createClient, normalizeBaseUrl, type Result } from "../client/client.ts";
import { ConnectionError } from "../client/errors.ts";
import { CliError } from "./output.ts";

// The CLI's side of the typed client (src/client/): one place that turns every failure into one
// clear line — the server's error code and message, or why the server could not be reached.

export type CliClient = {
  api: Client;
  base: string;
  /** The data of a call, or a CliError saying what went wrong. */
  run<T>(call: Promise<Result<T>>): Promise<T>;
};

export function createCliClient(options: {
  url: string;
  apiKey: string | null;
  timeoutMs?: number;
}): CliClient {
  let base: string;
  try {
    base = normalizeBaseUrl(options.url);
  } catch (err) {
    throw new CliError(`--url / RESIDENCY_URL: ${(err as Error).message}`, 2);
  }
  if (!options.apiKey) throw new CliError("no API key: set RESIDENCY_API_KEY (or pass --api-key)");
  const api = createClient({
    baseUrl: base,
    apiKey: options.apiKey,
    timeoutMs: options.timeoutMs ?? 120_000,
  });
  return {
    api,
    base,
    async run<T>(call: Promise<Result<T>>): Promise<T> {
      let result: Result<T>;
      try {
        result = await call;
      } catch (err) {
        if (err instanceof ConnectionError) {
          throw new CliError(
            `cannot reach ${base} (${err.reason}): is the service running? (--url or RESIDENCY_URL)`,
          );
        }
        throw err;
      }
      if (!result.error) return result.data as T;
      const e = result.error;
      const details = e.details as { code?: string; reason?: string } | null;
      if (e.code === "POLICY_VIOLATION" && details?.code) {
        throw new CliError(`bundle rejected: ${details.code}: ${details.reason ?? e.message}`);
      }
      throw new CliError(`${e.code}: ${e.message || "(no message)"}`);
    },
  };
}
