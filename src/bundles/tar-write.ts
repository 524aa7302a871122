import { gzipSync } from "node:zlib";
import type { TarFiles } from "./tar.ts";

// The writing half of tar.ts, for `residency bundle sign` and for tests that craft bundles: plain
// ustar entries (a PAX record when a path does not fit), laid out like `opa build` lays them out —
// a leading "/", mode 0600, owner 0, mtime 0 — so a re-packed bundle differs only where it must.

export function writeTarGz(files: TarFiles): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, body] of files) {
    const path = `/${name.replace(/^\/+/, "")}`;
    const split = splitUstarPath(path);
    if (!split) {
      const record = paxRecord("path", path);
      blocks.push(header({ name: "././@PaxHeader", prefix: "", size: record.length, type: "x" }));
      blocks.push(padded(record));
    }
    blocks.push(
      header({
        name: split?.name ?? path.slice(-100),
        prefix: split?.prefix ?? "",
        size: body.length,
        type: "0",
      }),
    );
    blocks.push(padded(body));
  }
  blocks.push(Buffer.alloc(1024)); // end-of-archive: two zero blocks
  return gzipSync(Buffer.concat(blocks));
}

function splitUstarPath(path: string): { name: string; prefix: string } | null {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
  for (let i = path.indexOf("/", 1); i !== -1; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== "") {
      return { name, prefix };
    }
  }
  return null;
}

function paxRecord(key: string, value: string): Buffer {
  // "<length> <key>=<value>\n", where <length> counts its own digits.
  const rest = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(rest) + 1;
  while (String(length).length + Buffer.byteLength(rest) !== length) length++;
  return Buffer.from(`${length}${rest}`, "utf8");
}

function header(entry: { name: string; prefix: string; size: number; type: "0" | "x" }): Buffer {
  const h = Buffer.alloc(512);
  h.write(entry.name, 0, 100, "utf8");
  h.write("0000600\0", 100, "ascii");
  h.write("0000000\0", 108, "ascii");
  h.write("0000000\0", 116, "ascii");
  h.write(`${entry.size.toString(8).padStart(11, "0")}\0`, 124, "ascii");
  h.write("00000000000\0", 136, "ascii");
  h.write("        ", 148, "ascii");
  h.write(entry.type, 156, "ascii");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  h.write(entry.prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return h;
}

function padded(body: Buffer): Buffer {
  const rest = body.length % 512;
  return rest === 0 ? body : Buffer.concat([body, Buffer.alloc(512 - rest)]);
}
