import { gunzipSync } from "node:zlib";

// A bundle is a small tar.gz read whole in memory: a few dozen lines of ustar parsing beat a
// streaming dependency, and we never touch the filesystem with its contents.

export type TarFiles = Map<string, Buffer>;

/**
 * What an archive may hold before it is refused. A bundle is a handful of files (the shipped one:
 * 30 entries, under 300 KB unpacked); the limits are far above that and far below what would hurt:
 * gunzip stops at `maxUnpackedBytes` (a gzip bomb costs that much and no more), and the entry count
 * is checked as headers are read, before any body is copied.
 */
export type ArchiveLimits = { maxEntries: number; maxUnpackedBytes: number };

export const ARCHIVE_LIMITS: ArchiveLimits = { maxEntries: 1_000, maxUnpackedBytes: 64 * 1024 * 1024 };

/** Thrown for an archive over its limits (the loader reports it as BUNDLE_CORRUPT). */
export class ArchiveLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArchiveLimitError";
  }
}

export function readTarGz(gz: Buffer, limits: ArchiveLimits = ARCHIVE_LIMITS): TarFiles {
  let tar: Buffer;
  try {
    tar = gunzipSync(gz, { maxOutputLength: limits.maxUnpackedBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ArchiveLimitError(
        `bundle expands to more than ${limits.maxUnpackedBytes} bytes (the limit); refused before unpacking further`,
      );
    }
    throw new Error(`bundle is not a valid gzip stream: ${(err as Error).message}`);
  }
  return readTar(tar, limits);
}

export function readTar(tar: Buffer, limits: ArchiveLimits = ARCHIVE_LIMITS): TarFiles {
  const files: TarFiles = new Map();
  let offset = 0;
  let entries = 0;
  let longName: string | null = null;
  let paxPath: string | null = null;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    // Every header counts (directories, links and pax records too): each costs parsing.
    if (++entries > limits.maxEntries) {
      throw new ArchiveLimitError(`bundle has more than ${limits.maxEntries} archive entries (the limit)`);
    }
    if (!checksumOk(header)) throw new Error(`bundle tar header checksum mismatch at offset ${offset}`);
    const size = parseOctal(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] ?? 0);
    const bodyStart = offset + 512;
    const bodyEnd = bodyStart + size;
    if (bodyEnd > tar.length) throw new Error("bundle tar is truncated");
    const body = tar.subarray(bodyStart, bodyEnd);
    offset = bodyStart + Math.ceil(size / 512) * 512;

    if (type === "L") {
      longName = cString(body);
      continue;
    }
    if (type === "x") {
      paxPath = paxAttribute(body, "path");
      continue;
    }
    if (type !== "0" && type !== "\0") {
      longName = null;
      paxPath = null;
      continue; // directories, links: bundles carry plain files only
    }
    const prefix = cString(header.subarray(345, 500));
    const name = paxPath ?? longName ?? (prefix ? `${prefix}/` : "") + cString(header.subarray(0, 100));
    longName = null;
    paxPath = null;
    files.set(normalise(name), Buffer.from(body));
  }
  return files;
}

function normalise(name: string): string {
  const clean = name.replace(/^\.?\/+/, "");
  if (clean.split("/").includes("..")) throw new Error(`bundle entry escapes its root: ${name}`);
  return clean;
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end === -1 ? buf.length : end).toString("utf8");
}

function parseOctal(buf: Buffer): number {
  const text = cString(buf).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new Error(`bundle tar has an invalid size field "${text}"`);
  return Number.parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  const stored = parseOctal(header.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] ?? 0);
  return sum === stored;
}

function paxAttribute(body: Buffer, key: string): string | null {
  for (const line of body.toString("utf8").split("\n")) {
    const m = /^\d+ ([^=]+)=(.*)$/.exec(line);
    if (m && m[1] === key) return m[2] ?? null;
  }
  return null;
}
