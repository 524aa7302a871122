// The console's only way to the service: the public JSON API, same origin, the key in an
// Authorization header (never a cookie, never a URL). One seam, so a generated client can
// replace it.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** @param {string} key  @param {{onUnauthenticated?: (e: ApiError) => void}} [hooks] */
export function createApi(key, hooks = {}) {
  async function call(method, path, { query, body, raw, contentType } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
    }
    const headers = { authorization: `Bearer ${key}`, accept: "application/json" };
    let payload;
    if (raw !== undefined) {
      payload = raw;
      headers["content-type"] = contentType ?? "application/octet-stream";
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] = "application/json";
    }
    const res = await fetch(url, { method, headers, body: payload, credentials: "omit", cache: "no-store" });
    if (!res.ok) {
      let envelope = null;
      try {
        envelope = (await res.json()).error;
      } catch {
        // not JSON: the status says enough
      }
      const error = new ApiError(
        res.status,
        envelope?.code ?? `HTTP_${res.status}`,
        envelope?.message ?? res.statusText,
        envelope?.details,
      );
      if (res.status === 401) hooks.onUnauthenticated?.(error);
      throw error;
    }
    return res;
  }
  const json = async (method, path, options) => (await call(method, path, options)).json();
  return {
    get: (path, query) => json("GET", path, { query }),
    post: (path, body) => json("POST", path, { body: body ?? {} }),
    put: (path, body, query) => json("PUT", path, { body, query }),
    putFile: (path, file, query) => json("PUT", path, { raw: file, query, contentType: "application/gzip" }),
    /** A streamed download (audit export) as a Blob. */
    blob: async (path, query) => (await call("GET", path, { query })).blob(),
  };
}
