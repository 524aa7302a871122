import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readBody, readJsonBody } from "../../src/http/body.ts";

// The body reader on its own, with requests a real socket could not always deliver (Node's parser
// refuses some of these before the handler runs; in-process callers get the same answers).

function fakeRequest(headers: Record<string, string>, chunks: Array<string | Buffer>): IncomingMessage {
  const stream = Readable.from(chunks.map((c) => (typeof c === "string" ? Buffer.from(c) : c)));
  return Object.assign(stream, { headers }) as unknown as IncomingMessage;
}

const json = { "content-type": "application/json" };

describe("readJsonBody", () => {
  it.each(["12abc", "-1", " 12", "1e3", "0x10", ""])("a Content-Length of %j is a 400", async (length) => {
    await expect(readBody(fakeRequest({ "content-length": length }, ["{}"]), 1024)).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
  });

  it("a declared length over the limit is a 413 before a byte is read", async () => {
    const req = fakeRequest({ ...json, "content-length": "5000" }, ["{}"]);
    await expect(readJsonBody(req, 1024)).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(req.readableDidRead).toBe(false);
  });

  it("bytes crossing the limit without a declared length are a 413", async () => {
    const req = fakeRequest(json, ["[", "1,".repeat(600), "1]"]);
    await expect(readJsonBody(req, 1024)).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
  });

  it("fewer bytes than declared, invalid UTF-8, empty and malformed bodies are 400s", async () => {
    await expect(
      readJsonBody(fakeRequest({ ...json, "content-length": "10" }, ["{}"])),
    ).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
    for (const body of [Buffer.from([0x7b, 0xff, 0x7d]), "  ", "{", "nul"]) {
      await expect(readJsonBody(fakeRequest(json, [body]))).rejects.toMatchObject({
        code: "VALIDATION_FAILED",
      });
    }
  });

  it("a non-JSON content type is a 415; JSON with a charset or a +json type is read", async () => {
    await expect(readJsonBody(fakeRequest({ "content-type": "text/plain" }, ["{}"]))).rejects.toMatchObject({
      code: "UNSUPPORTED_MEDIA_TYPE",
    });
    await expect(
      readJsonBody(fakeRequest({ "content-type": "application/json-seq" }, ["{}"])),
    ).rejects.toMatchObject({ code: "UNSUPPORTED_MEDIA_TYPE" });
    expect(
      await readJsonBody(fakeRequest({ "content-type": "application/json; charset=utf-8" }, ['{"a":1}'])),
    ).toEqual({
      a: 1,
    });
    expect(
      await readJsonBody(fakeRequest({ "content-type": "application/merge-patch+json" }, ["\ufeff[1]"])),
    ).toEqual([1]);
  });
});
