import { createHash } from "node:crypto";
import { type FSWatcher, watch } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { toError } from "../errors.ts";
import { readTarGz } from "./tar.ts";

// Watches BUNDLE_PATH and hands each new, complete version of the file to `onBundle`.
//
// - The DIRECTORY is watched, not the file: editors and `mv new.tar.gz residency.tar.gz` replace the
//   inode, and a watch on the old inode would go silent.
// - Events are debounced (`debounceMs`, 300 ms): one `cp` fires several.
// - A file is read only once its size and mtime hold still across `settleMs`.
// - A gzip or tar that ends early is a file still being written: it is retried `retries` times
//   (`retryMs` apart) before being handed on anyway — the loader then refuses it as BUNDLE_CORRUPT
//   and the serving bundle stays. A half-written file is therefore never activated.
// - fs.watch misses events on some filesystems (network mounts, some container volumes): a stat
//   every `pollIntervalMs` catches those changes too.
// - Only content changes count: the same bytes (same sha256) are not handed on twice in a row.

export type BundleWatcher = { close(): void };

export type BundleWatcherOptions = {
  path: string;
  /** sha256 of the content already dealt with at start (so it is not published again). */
  initialSha256: string | null;
  onBundle: (bytes: Buffer, sha256: string) => Promise<void>;
  onError: (err: Error, context: string) => void;
  debounceMs?: number;
  settleMs?: number;
  retries?: number;
  retryMs?: number;
  pollIntervalMs?: number;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function looksIncomplete(bytes: Buffer): Promise<boolean> {
  if (bytes.length === 0) return true; // `cp` and `>` create the file before writing it
  try {
    await readTarGz(bytes);
    return false;
  } catch (err) {
    return /unexpected end|truncated|incomplete/i.test(toError(err).message);
  }
}

export function watchBundleFile(o: BundleWatcherOptions): BundleWatcher {
  const debounceMs = o.debounceMs ?? 300;
  const settleMs = o.settleMs ?? 100;
  const retries = o.retries ?? 5;
  const retryMs = o.retryMs ?? 200;
  const name = basename(o.path);
  let lastSha = o.initialSha256;
  let lastStat: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;

  const statKey = async (): Promise<string | null> => {
    try {
      const s = await stat(o.path);
      return `${s.size}:${s.mtimeMs}:${s.ino}`;
    } catch {
      return null; // gone for now (mid-rename): the next event or poll tries again
    }
  };

  async function check(): Promise<void> {
    // Wait until size and mtime are stable.
    let before = await statKey();
    for (let i = 0; i < 50 && !closed; i++) {
      await sleep(settleMs);
      const after = await statKey();
      if (after === before) break;
      before = after;
    }
    if (before === null || closed) return;
    lastStat = before;

    let bytes: Buffer | null = null;
    for (let attempt = 0; attempt <= retries && !closed; attempt++) {
      try {
        bytes = await readFile(o.path);
      } catch (err) {
        o.onError(toError(err), `cannot read ${o.path}`);
        return;
      }
      if (!(await looksIncomplete(bytes))) break;
      if (attempt < retries) await sleep(retryMs);
    }
    if (!bytes || closed) return;
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (sha256 === lastSha) return;
    lastSha = sha256;
    await o.onBundle(bytes, sha256);
  }

  function trigger(): void {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      if (running) {
        again = true; // a change while handling one: look once more afterwards
        return;
      }
      const run = async () => {
        do {
          again = false;
          try {
            await check();
          } catch (err) {
            o.onError(toError(err), `bundle file ${o.path}`);
          }
        } while (again && !closed);
        running = null;
      };
      running = run();
    }, debounceMs);
    timer.unref();
  }

  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dirname(o.path), { persistent: false }, (_event, file) => {
      if (file === null || file.toString() === name) trigger();
    });
    watcher.on("error", (err) => o.onError(err, `watching ${dirname(o.path)}`));
  } catch (err) {
    o.onError(toError(err), `cannot watch ${dirname(o.path)}; relying on the periodic check`);
  }

  void statKey().then((key) => {
    lastStat ??= key;
  });
  const poll = setInterval(async () => {
    const key = await statKey();
    if (key !== null && key !== lastStat) {
      lastStat = key;
      trigger();
    }
  }, o.pollIntervalMs ?? 5_000);
  poll.unref();

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      clearInterval(poll);
      watcher?.close();
    },
  };
}
