import { closeSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

// One process per embedded data directory. PGlite has no lock of its own: two processes on one
// directory each believe they own the files, and one's commits silently vanish under the other's.
// The lock is a file created exclusively (O_EXCL) holding who took it; a holder that is gone (its
// pid no longer runs on this host) left a stale file, which is taken over. Taken before anything
// reads or writes the directory, released on shutdown.

export type LockHolder = { pid: number; host: string; port: number; started_at: string };

export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder | null,
    readonly lockFile: string,
  ) {
    super(
      holder
        ? `data directory ${dir} is in use by another residency process: pid ${holder.pid} on ${holder.host}, port ${holder.port}, since ${holder.started_at}. Stop it first (or, if that process is gone, delete ${lockFile})`
        : `data directory ${dir} is locked by ${lockFile}, whose holder cannot be read; if no residency process uses ${dir}, delete it`,
    );
    this.name = "DataDirLockedError";
  }
}

export const LOCK_FILE = "residency.lock";

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // alive, someone else's
  }
}

function readHolder(file: string): LockHolder | null {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as LockHolder;
    return Number.isSafeInteger(parsed.pid) ? parsed : null;
  } catch {
    return null;
  }
}

/** Takes the directory's lock or throws DataDirLockedError naming the holder. */
export function lockDataDir(dir: string, info: { port: number }): { holder: LockHolder; release(): void } {
  const file = join(dir, LOCK_FILE);
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    port: info.port,
    started_at: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, "wx", 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const current = readHolder(file);
      const stale = current !== null && current.host === holder.host && !running(current.pid);
      if (!stale || attempt > 0) throw new DataDirLockedError(dir, current, file);
      unlinkSync(file); // its holder died without releasing it
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(holder)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      holder,
      release() {
        if (released) return;
        released = true;
        // Only our own: never delete a lock another process took after ours was (wrongly) removed.
        if (readHolder(file)?.pid === holder.pid) unlinkSync(file);
      },
    };
  }
  throw new DataDirLockedError(dir, readHolder(file), file);
}
