// Two servers that do no work, to put a price on the HTTP exchange itself on this machine: what
// any decision must pay before Residency does anything (bench/http.ts, bench/vs-opa.ts). Each reads
// the JSON body, parses it and answers a small JSON object. Run with `node -e`, PORT in the env.

/** node:http, as the service's decision routes use it. */
export const BARE_NODE_HTTP = `
const http = require("node:http");
http.createServer((req, res) => {
  let b = ""; req.on("data", c => b += c); req.on("end", () => {
    let echo = null; try { echo = JSON.parse(b).tenant_id; } catch {}
    const body = JSON.stringify({ ok: true, echo });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }); res.end(body);
  });
}).listen(Number(process.env.PORT), "127.0.0.1");`;

/**
 * node:net with a naive framer (head up to CRLFCRLF, Content-Length, body): NOT an HTTP parser — no
 * chunked bodies, no validation, no limits. It only bounds what a hand-written HTTP layer could save
 * against node:http: the sockets, the kernel and JSON cost the same in both.
 */
export const BARE_NET_FRAMER = `
const net = require("node:net");
net.createServer((s) => {
  let buf = Buffer.alloc(0);
  s.on("data", (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    for (;;) {
      const end = buf.indexOf("\\r\\n\\r\\n");
      if (end < 0) return;
      const m = /content-length: *(\\d+)/i.exec(buf.toString("latin1", 0, end));
      const len = m ? Number(m[1]) : 0;
      if (buf.length < end + 4 + len) return;
      const text = buf.toString("utf8", end + 4, end + 4 + len);
      buf = buf.subarray(end + 4 + len);
      let echo = null; try { echo = JSON.parse(text).tenant_id; } catch {}
      const body = JSON.stringify({ ok: true, echo });
      s.write("HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: " + Buffer.byteLength(body) + "\\r\\n\\r\\n" + body);
    }
  });
  s.on("error", () => {});
}).listen(Number(process.env.PORT), "127.0.0.1");`;
