import { createHmac } from "node:crypto";
import type { OverrideEvent, OverrideNotifier, OverrideView } from "./overrides.ts";

// Override notifications to an operator's endpoint: JSON, signed, retried with backoff in the
// background so an unreachable receiver never slows or fails the API call that caused it.

export const SIGNATURE_HEADER = "x-residency-signature";

/** `t=<unix seconds>,v1=<hex hmac-sha256 of "<t>.<body>">` — the receiver recomputes and compares. */
export function signPayload(secret: string, body: string, timestamp: number): string {
  const mac = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${mac}`;
}

export type WebhookOptions = {
  url: string;
  secret: string;
  maxAttempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
  onDelivered?: (event: OverrideEvent, attempts: number) => void;
  onFailed?: (event: OverrideEvent, err: Error, attempts: number) => void;
};

// A throwing callback must not become an unhandled rejection of a delivery nobody awaits.
function safely(callback: () => void) {
  try {
    callback();
  } catch {
    // the callback's own bug
  }
}

export function createWebhookNotifier(
  options: WebhookOptions,
): OverrideNotifier & { drain(): Promise<void> } {
  const maxAttempts = options.maxAttempts ?? 6;
  const baseDelay = options.baseDelayMs ?? 500;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const doFetch = options.fetchImpl ?? fetch;
  const inFlight = new Set<Promise<void>>();

  async function deliver(event: OverrideEvent, override: OverrideView) {
    const body = JSON.stringify({
      event: `override.${event}`,
      occurred_at: new Date().toISOString(),
      override,
    });
    let lastError: Error = new Error("not attempted");
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        const timestamp = Math.floor(Date.now() / 1000);
        const res = await doFetch(options.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [SIGNATURE_HEADER]: signPayload(options.secret, body, timestamp),
            "x-residency-event": `override.${event}`,
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (res.ok) {
          safely(() => options.onDelivered?.(event, attempt));
          return;
        }
        lastError = new Error(`webhook answered ${res.status}`);
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) break; // will not improve
      } catch (err) {
        lastError = err instanceof Error ? err : new Error(String(err));
      }
      if (attempt < maxAttempts) await new Promise((r) => setTimeout(r, baseDelay * 2 ** (attempt - 1)));
    }
    safely(() => options.onFailed?.(event, lastError, maxAttempts));
  }

  const notify = ((event: OverrideEvent, override: OverrideView) => {
    const p = deliver(event, override).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }) as OverrideNotifier & { drain(): Promise<void> };
  notify.drain = async () => {
    await Promise.allSettled([...inFlight]);
  };
  return notify;
}
