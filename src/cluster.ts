import cluster, { type Worker } from "node:cluster";

// WORKERS > 1: this process only supervises. The first worker starts alone (it migrates the store
// and mints the bootstrap key), the others once it serves; they share the port through the
// kernel (SCHED_NONE: no hand-off through this process) and each is a full instance — the stores
// already keep one audit chain and one cache across instances. A worker that dies is replaced.

export type ClusterLog = (message: string, fields?: Record<string, unknown>) => void;

const RESTART_DELAY_MS = 1_000;

/** What a worker sends its supervisor once it serves (store migrated, keys and bundle ready). */
export const WORKER_READY = "residency:worker-ready";

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

export function superviseWorkers(count: number, log: ClusterLog): void {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  const live = new Set<Worker>();

  const fork = (): Promise<void> =>
    new Promise((resolve) => {
      const worker = cluster.fork();
      live.add(worker);
      worker.on("message", (message: unknown) => {
        if (message === WORKER_READY) resolve();
      });
      worker.once("exit", (code, signal) => {
        live.delete(worker);
        resolve();
        if (stopping) {
          if (live.size === 0) process.exit(0);
          return;
        }
        log("worker exited; starting another", { pid: worker.process.pid, code, signal });
        setTimeout(() => {
          if (!stopping && live.size < count) void fork();
        }, RESTART_DELAY_MS).unref();
      });
    });

  void (async () => {
    await fork();
    await Promise.all(Array.from({ length: count - 1 }, () => fork()));
    log("workers listening", { workers: live.size });
  })();

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log("stopping workers", { signal, workers: live.size });
    for (const worker of live) worker.process.kill(signal);
    if (live.size === 0) process.exit(0);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
