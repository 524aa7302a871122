import type { IncomingMessage } from "node:http";
import getRawBody from "raw-body";
import { AppError } from "../errors.ts";

export const MAX_BODY_BYTES = 64 * 1024;

const DECIMAL = /^\d{1,15}$/;

/** Whether the request carries a body at all (a declared length above 0, or chunked). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/**
 * The whole body as bytes, at most `limit`: 413 as soon as a declared length or the bytes received
 * cross it, without reading on (the error answer then closes the connection, see envelope.ts). A
 * Content-Length that is not a plain decimal number is a 400, never read as "no length".
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && !DECIMAL.test(declared)) {
    throw new AppError("VALIDATION_FAILED", "Content-Length must be a decimal number of bytes");
  }
  try {
    return await getRawBody(req, { limit, ...(declared !== undefined ? { length: declared } : {}) });
  } catch (err) {
    throw bodyError(err, limit);
  }
}

function bodyError(err: unknown, limit: number): AppError {
  const type = (err as { type?: unknown } | null)?.type;
  if (type === "entity.too.large") {
    return new AppError("PAYLOAD_TOO_LARGE", `request body exceeds ${limit} bytes`, { cause: err });
  }
  if (type === "request.size.invalid") {
    return new AppError("VALIDATION_FAILED", "request body does not match its Content-Length", {
      cause: err,
    });
  }
  // Aborted by the client, or the socket failed: nobody is left to read the answer.
  return new AppError("VALIDATION_FAILED", "request body could not be read", { cause: err });
}

const JSON_TYPE = /^application\/(.+\+)?json\s*(;|$)/i;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A JSON body: content type checked (415), size limited (413 at once), UTF-8 and JSON syntax
 * checked (400). Shared by the bare node:http decision routes and the Express routes.
 */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  if (!JSON_TYPE.test(req.headers["content-type"] ?? "")) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json");
  }
  const bytes = await readBody(req, limit);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new AppError("VALIDATION_FAILED", "request body is not valid UTF-8");
  }
  if (text.trim() === "") throw new AppError("VALIDATION_FAILED", "request body is empty");
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("VALIDATION_FAILED", "request body is not valid JSON");
  }
}
