// An open-loop HTTP/1.1 load client: requests go out on a fixed schedule whatever the answers do,
// and each latency runs from its scheduled time, so a stall is counted for every request it held
// up (no coordinated omission). No pipelining: a request goes out on an idle keep-alive
// connection, or on a new one when every open connection is waiting for an answer.
//
// Raw sockets, one prepared request buffer and preallocated latency arrays rather than
// `http.request`: the client shares the machine and its own collections land in what it measures —
// with `http.request` at 2,500 req/s it paused 46–63 times in 14 s, each up to 16.5 ms, inside
// the latencies it reported (decision 0015).

import { connect, type Socket } from "node:net";

export type OpenLoopOptions = {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Requests per second. */
  rate: number;
  /** Counted seconds, after `warmSeconds` at the same rate that are not counted. */
  seconds: number;
  warmSeconds: number;
};

export type OpenLoopResult = {
  /** Answers per second over the counted part. */
  rate: number;
  p50: number;
  p99: number;
  /** Counted requests that did not end in a 200 (another status, a broken connection). */
  bad: number;
};

type Conn = {
  socket: Socket;
  /** The scheduled send time of the request in flight on it; NaN when idle. */
  scheduled: number;
  buf: Buffer | null;
};

const HEADER_END = Buffer.from("\r\n\r\n");
// Header names as the service writes them, lower case (`sendJson`) or capitalised (Express).
const LENGTH_NAMES = [Buffer.from("\r\ncontent-length:"), Buffer.from("\r\nContent-Length:")];
const CONNECTION_CLOSE = Buffer.from("onnection: close");

/** The Content-Length an answer's head (status line and headers) gives, or -1 when it has none. */
function contentLength(head: Buffer): number {
  for (const name of LENGTH_NAMES) {
    let at = head.indexOf(name);
    if (at < 0) continue;
    at += name.length;
    while (head[at] === 0x20) at++;
    let n = 0;
    let digits = 0;
    for (; head[at]! >= 0x30 && head[at]! <= 0x39; at++, digits++) n = n * 10 + head[at]! - 0x30;
    return digits > 0 ? n : -1;
  }
  return -1;
}

export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const target = new URL(o.url);
  const port = Number(target.port || 80);
  const body = Buffer.from(o.body);
  const request = Buffer.concat([
    Buffer.from(
      `POST ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
        "Content-Type: application/json\r\n" +
        `Content-Length: ${body.length}\r\n` +
        Object.entries(o.headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join("") +
        "\r\n",
      "latin1",
    ),
    body,
  ]);

  const total = Math.floor(o.rate * (o.seconds + o.warmSeconds));
  const latencies = new Float64Array(total);
  let counted = 0;
  let bad = 0;
  let finished = 0;
  const start = performance.now();
  const countFrom = start + o.warmSeconds * 1000;
  let countedSince = Number.NaN;
  let lastAnswer = start;

  const idle: Conn[] = [];
  const all = new Set<Conn>();
  let allDone: (() => void) | null = null;

  const done = (conn: Conn, ok: boolean) => {
    const scheduled = conn.scheduled;
    conn.scheduled = Number.NaN;
    finished++;
    const now = performance.now();
    if (scheduled >= countFrom) {
      // Failed requests count in the percentiles too (their time to the failure): a p99 must not
      // look better because the slowest requests failed.
      latencies[counted++] = now - scheduled;
      if (!ok) bad++;
      lastAnswer = now;
    }
    if (finished === total) allDone?.();
  };

  // One read buffer for every connection (`onread`: no Buffer per read). Reads are handled one at a
  // time on this thread and each is parsed before the callback returns, so they can share it.
  const readBuffer = Buffer.alloc(1 << 16);
  const open = (): Conn => {
    const conn: Conn = { socket: null as unknown as Socket, scheduled: Number.NaN, buf: null };
    conn.socket = connect({
      host: target.hostname,
      port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (nread: number, shared: Uint8Array) => {
          // A partial answer is kept (copied) until the rest comes; usually an answer comes whole.
          const data = conn.buf ? Buffer.concat([conn.buf, shared.subarray(0, nread)]) : (shared as Buffer);
          let from = 0;
          const to = conn.buf ? data.length : nread;
          conn.buf = null;
          for (;;) {
            const end = data.indexOf(HEADER_END, from);
            if (end < 0 || end >= to) break;
            // The head alone is searched: the shared buffer holds stale bytes past this read.
            const head = data.subarray(from, end);
            const length = contentLength(head);
            if (length < 0) {
              // Not an answer this client can frame (chunked, say): count it bad and start afresh.
              conn.socket.destroy();
              return false;
            }
            const size = end + HEADER_END.length + length - from;
            if (to - from < size) break;
            const ok = data[from + 9] === 0x32 && data[from + 10] === 0x30 && data[from + 11] === 0x30; // "200"
            const close = head.indexOf(CONNECTION_CLOSE) !== -1;
            from += size;
            if (Number.isNaN(conn.scheduled)) continue; // an answer to nothing asked: ignore it
            done(conn, ok);
            if (close) {
              conn.socket.destroy();
              return false;
            }
            idle.push(conn);
          }
          if (from < to) conn.buf = Buffer.from(data.subarray(from, to));
          return true;
        },
      },
    });
    all.add(conn);
    const lost = () => {
      all.delete(conn);
      const at = idle.indexOf(conn);
      if (at >= 0) idle.splice(at, 1);
      if (!Number.isNaN(conn.scheduled)) done(conn, false);
    };
    conn.socket.on("error", () => {}); // "close" follows
    conn.socket.on("close", lost);
    return conn;
  };

  for (let i = 0; i < total; i++) {
    const scheduled = start + (i * 1000) / o.rate;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    if (scheduled >= countFrom && Number.isNaN(countedSince)) countedSince = performance.now();
    const conn = idle.pop() ?? open();
    // Latency runs from the scheduled time (a late send counts against the answer), or from the
    // actual send when it went out early (the loop sleeps only for waits over 1 ms).
    conn.scheduled = Math.min(scheduled, performance.now());
    conn.socket.write(request);
  }
  // Every request answered or its connection lost; a silent server fails the run after 30 s.
  try {
    if (finished < total) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${total - finished} requests unanswered`)), 30_000);
        allDone = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    for (const conn of all) conn.socket.destroy();
  }
  if (counted === 0) throw new Error("the open loop counted no answers");

  const sorted = latencies.subarray(0, counted).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return {
    rate: counted / ((lastAnswer - countedSince) / 1000),
    p50: at(0.5),
    p99: at(0.99),
    bad,
  };
}
