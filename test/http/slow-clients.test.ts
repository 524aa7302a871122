import type { Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpServer } from "../../src/http/server.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// Clients that send slowly, too much, or without a key, over real sockets to the server main.ts
// builds. None of these tests waits for a body to finish: each sends part of one and then nothing,
// so an answer can only come from the limit under test (a server that drained the body first would
// never answer, and the test would time out).

type Exchange = { status: number; headers: string; body: string };

/** Writes `head` and `body`, then sends nothing more; resolves with what came back once the server closed. */
function exchange(port: number, head: string, body: Buffer | string = ""): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => {}); // a reset after the answer is the server closing on unread bytes
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!m || split === -1)
        return reject(new Error(`no HTTP answer before close: ${JSON.stringify(text)}`));
      resolve({
        status: Number(m[1]),
        headers: text.slice(0, split).toLowerCase(),
        body: text.slice(split + 4),
      });
    });
    socket.write(head);
    if (body.length > 0) socket.write(body);
  });
}

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
};

describe("slow and oversized clients", () => {
  let t: TestService;
  let patient: Server; // long timeouts: answers here come from the body limits, not the clock
  let strict: Server; // short timeouts, to see them enforced
  let patientPort: number;
  let strictPort: number;
  let publisherKey: string;

  beforeAll(async () => {
    t = await startTestService();
    publisherKey = await t.keyFor(["bundle_publisher"]);
    patient = createHttpServer(t.handler, { requestTimeoutMs: 120_000, headersTimeoutMs: 60_000 });
    strict = createHttpServer(t.handler, { requestTimeoutMs: 1_500, headersTimeoutMs: 500 });
    patientPort = await listen(patient);
    strictPort = await listen(strict);
  });
  afterAll(async () => {
    for (const server of [patient, strict]) {
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    }
    await t?.close();
  });

  const post = (path: string, headers: Record<string, string | number>) =>
    `POST ${path} HTTP/1.1\r\nHost: test\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("")}\r\n`;

  it("a declared body over 64 KiB is a 413 at once, and the connection is closed", async () => {
    for (const path of ["/api/v1/policies", "/api/v1/access/resolve", "/api/v1/keys"]) {
      const res = await exchange(
        patientPort,
        post(path, {
          authorization: `Bearer ${ADMIN_KEY}`,
          "content-type": "application/json",
          "content-length": 10_000_000,
        }),
        `{"tenant_id": "${"x".repeat(1000)}`,
      );
      expect(res.status, path).toBe(413);
      expect(JSON.parse(res.body).error.code).toBe("PAYLOAD_TOO_LARGE");
      expect(res.headers).toContain("connection: close");
    }
  });

  it("a chunked body crossing 64 KiB is a 413 as soon as it crosses", async () => {
    const chunk = "x".repeat(70 * 1024);
    const res = await exchange(
      patientPort,
      post("/api/v1/policies", {
        authorization: `Bearer ${ADMIN_KEY}`,
        "content-type": "application/json",
        "transfer-encoding": "chunked",
      }),
      `${chunk.length.toString(16)}\r\n${chunk}\r\n`, // and never the last chunk
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("an unauthenticated body is a 401 before it is read (Express and fast routes alike)", async () => {
    for (const path of ["/api/v1/policies", "/api/v1/emergency/override", "/api/v1/access/resolve"]) {
      const res = await exchange(
        patientPort,
        post(path, { "content-type": "application/json", "content-length": 60_000 }),
        '{"tenant_id": "a"',
      );
      expect(res.status, path).toBe(401);
      expect(JSON.parse(res.body).error.code).toBe("UNAUTHENTICATED");
      expect(res.headers).toContain("connection: close");
    }
  });

  it("a bundle upload: 401 at once without a key, 413 at once over 32 MiB", async () => {
    const put = (headers: Record<string, string | number>) =>
      post("/api/v1/bundles", headers).replace(/^POST/, "PUT");
    const anonymous = await exchange(
      patientPort,
      put({ "content-type": "application/gzip", "content-length": 20_000_000 }),
      Buffer.alloc(1024),
    );
    expect(anonymous.status).toBe(401);
    const huge = await exchange(
      patientPort,
      put({
        authorization: `Bearer ${publisherKey}`,
        "content-type": "application/gzip",
        "content-length": 40 * 1024 * 1024,
      }),
      Buffer.alloc(1024),
    );
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("headers that never finish are answered 408 and the connection closed", async () => {
    const res = await exchange(strictPort, "GET /health/live HTTP/1.1\r\nHost: test\r\nX-Slow: 1");
    expect(res.status).toBe(408);
    expect(res.headers).toContain("connection: close");
  });

  it("a body that stops arriving is answered 408 and the connection closed", async () => {
    const res = await exchange(
      strictPort,
      post("/api/v1/policies", {
        authorization: `Bearer ${ADMIN_KEY}`,
        "content-type": "application/json",
        "content-length": 1000,
      }),
      '{"tenant_id":',
    );
    expect(res.status).toBe(408);
  });

  it("a Content-Length that is not a number is a 400, never read as no length", async () => {
    const res = await exchange(
      patientPort,
      post("/api/v1/policies", {
        authorization: `Bearer ${ADMIN_KEY}`,
        "content-type": "application/json",
        "content-length": "12abc",
      }),
      '{"tenant_id": "a"}',
    );
    expect(res.status).toBe(400);
  });

  it("the strict server still answers a prompt client", async () => {
    const res = await exchange(
      strictPort,
      "GET /health/live HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    );
    expect(res.status).toBe(200);
  });
});
