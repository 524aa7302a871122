import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Client, createClient, type Method } from "../../src/client/client.ts";
import { API, type Operation } from "../../src/http/contract.ts";
import { errorEnvelopeSchema } from "../../src/http/responses.ts";

// The API suites call the service through the typed client (src/client/), over a real socket: the
// handler listens on an ephemeral loopback port per service. Every answer is held to the contract
// table: a 2xx body must parse with the route's response schema, an error with the envelope — so
// the OpenAPI document cannot drift from what the service says.

const servers = new WeakMap<RequestListener, Promise<{ server: Server; url: string }>>();

/** The base URL the handler answers on (started on first use). */
export function serve(handler: RequestListener): Promise<string> {
  let started = servers.get(handler);
  if (!started) {
    started = new Promise((resolve, reject) => {
      const server = createServer(handler);
      server.on("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        resolve({ server, url: `http://127.0.0.1:${port}` });
      });
    });
    servers.set(handler, started);
  }
  return started.then((s) => s.url);
}

export async function stopServing(handler: RequestListener): Promise<void> {
  const started = servers.get(handler);
  if (!started) return;
  servers.delete(handler);
  const { server } = await started;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const OPERATIONS = (Object.entries(API) as Array<[string, Operation]>).map(([key, op]) => {
  const [method, template] = key.split(" ") as [Method, string];
  const pattern = new RegExp(`^${template.replace(/\{[A-Za-z_]+\}/g, "[^/]+")}$`);
  return { method, template, pattern, op };
});

/** The contract's operation for a concrete request, the most literal template first. */
function operationFor(method: Method, path: string) {
  const bare = path.split("?")[0]!;
  const candidates = OPERATIONS.filter((o) => o.method === method && o.pattern.test(bare));
  return candidates.sort((a, b) => braces(a.template) - braces(b.template))[0];
}
const braces = (s: string) => (s.match(/\{/g) ?? []).length;

/** Throws when a body the service sent does not match what the contract promises. */
export function checkContract(info: { method: Method; path: string; status: number; body: unknown }): void {
  const o = operationFor(info.method, info.path);
  if (!o) {
    if (info.status !== 404 && info.status !== 401) {
      throw new Error(
        `contract: ${info.method} ${info.path} answered ${info.status} but is not in the contract`,
      );
    }
    return;
  }
  const { op } = o;
  let schema = null;
  if (info.status >= 200 && info.status < 300 && !("text" in op.response)) schema = op.response;
  else if (info.status >= 400 && typeof info.body === "object" && info.body && "error" in info.body)
    schema = errorEnvelopeSchema;
  if (!schema) return;
  const parsed = schema.safeParse(info.body);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(
      `contract: ${info.method} ${o.template} answered ${info.status} with a body its schema refuses: ${issues.join("; ")}`,
    );
  }
}

/** The typed client for a service handler and key, answers checked against the contract. */
export async function clientFor(handler: RequestListener, key: string | null): Promise<Client> {
  return createClient({ baseUrl: await serve(handler), apiKey: key, retries: 0, onResponse: checkContract });
}

export type ApiResponse = {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: suites read answers of every shape
  body: any;
  text: string;
  headers: Record<string, string>;
};

/** A call in the making: `.set(header, value)` before it is awaited, as the suites write it. */
class PendingCall implements PromiseLike<ApiResponse> {
  private readonly headers: Record<string, string> = {};

  constructor(
    private readonly handler: RequestListener,
    private readonly key: string,
    private readonly method: Method,
    private readonly path: string,
    private readonly body: unknown,
  ) {}

  set(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  // biome-ignore lint/suspicious/noThenProperty: awaited like a supertest request
  then<A = ApiResponse, B = never>(
    onFulfilled?: ((value: ApiResponse) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.run().then(onFulfilled, onRejected);
  }

  private async run(): Promise<ApiResponse> {
    let body: unknown = null;
    const client = createClient({
      baseUrl: await serve(this.handler),
      apiKey: this.key,
      retries: 0,
      onResponse: (info) => {
        body = info.body;
        checkContract(info);
      },
    });
    const result = await client.request(this.method, this.path, {
      ...(this.body === undefined ? {} : { body: this.body }),
      headers: this.headers,
    });
    return {
      status: result.response.status,
      body,
      text: typeof body === "string" ? body : JSON.stringify(body),
      headers: Object.fromEntries(result.response.headers),
    };
  }
}

/** Small request helpers so suites read like the API calls they make (through the client). */
export function api(handler: RequestListener, key: string) {
  const call = (method: Method) => (path: string, body?: unknown) =>
    new PendingCall(handler, key, method, path, body);
  return { get: call("GET"), post: call("POST"), put: call("PUT"), delete: call("DELETE") };
}

export type Api = ReturnType<typeof api>;

export const TENANT_POLICY = {
  tenant_id: "acme-edu",
  primary_region: "us-east",
  compliance_frameworks: ["ferpa"],
};

export const LEARNER_POLICY = {
  tenant_id: "acme-edu",
  learner_id: "student-123",
  primary_region: "us-east",
  allowed_regions: ["us-west", "ca-central"],
  compliance_frameworks: ["ferpa", "coppa"],
  data_classification: "educational",
  allow_cross_region_failover: true,
  data_retention_days: 2555,
};
