import type { IncomingMessage } from "node:http";
import { AppError } from "../errors.ts";

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads a JSON body for the bare node:http routes: content type checked, size limited (413 as soon
 * as the limit is crossed, without buffering the rest), parse errors as 400.
 */
export function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const type = req.headers["content-type"] ?? "";
    if (!/^application\/(.+\+)?json\b/i.test(type)) {
      reject(new AppError("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json"));
      req.resume();
      return;
    }
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > limit) {
      reject(new AppError("PAYLOAD_TOO_LARGE", `request body exceeds ${limit} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new AppError("PAYLOAD_TOO_LARGE", `request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (failed) return;
      const text = chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return reject(new AppError("VALIDATION_FAILED", "request body is empty"));
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new AppError("VALIDATION_FAILED", "request body is not valid JSON"));
      }
    });
    req.on("error", (err) => {
      if (!failed)
        reject(new AppError("VALIDATION_FAILED", "request body could not be read", { cause: err }));
      failed = true;
    });
  });
}
