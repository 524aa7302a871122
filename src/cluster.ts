import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";

// WORKERS > 1: this process only supervises. The first worker starts alone (it migrates the store
// and mints the bootstrap key), the others once it serves; they share the port through the
// kernel (SCHED_NONE: no hand-off through this process) and each is a full instance — the stores
// already keep one audit chain and one cache across instances. A worker that dies is replaced.

export type ClusterLog = (message: string, fields?: Record<string, unknown>) => void;

const RESTART_DELAY_MS = 1_000;

/** What a worker sends its supervisor once it serves (store migrated, keys and bundle ready). */
export const WORKER_READY = "residency:worker-ready";

// A scrape of any worker answers for all of them: the worker asks the supervisor, which collects
// every worker's registry through prom-client's AggregatorRegistry (counters and histograms summed,
// gauges by their own aggregator) and answers. Without this, each scrape saw one worker at random.
const METRICS_REQUEST = "residency:metrics-request";
const METRICS_ANSWER = "residency:metrics-answer";
const METRICS_TIMEOUT_MS = 3_000;

type MetricsMessage =
  | { type: typeof METRICS_REQUEST; id: number }
  | { type: typeof METRICS_ANSWER; id: number; text?: string; error?: string };

const isMetricsMessage = (m: unknown): m is MetricsMessage =>
  typeof m === "object" && m !== null && typeof (m as { type?: unknown }).type === "string";

/**
 * In a worker: makes `registry` the one the supervisor collects, and returns what /metrics should
 * answer — the cluster's aggregate (rejects when the supervisor does not answer in time).
 */
export function clusterMetricsSource(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs this worker's answer to the supervisor's collection
  const pending = new Map<number, { resolve: (t: string) => void; reject: (e: Error) => void }>();
  let next = 0;
  process.on("message", (message: unknown) => {
    if (!isMetricsMessage(message) || message.type !== METRICS_ANSWER) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.text !== undefined) waiter?.resolve(message.text);
    else waiter?.reject(new Error(message.error ?? "no metrics from the supervisor"));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error("the supervisor did not answer for the workers' metrics"));
      }, METRICS_TIMEOUT_MS);
      pending.set(id, {
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsMessage);
    });
}

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

export function superviseWorkers(count: number, log: ClusterLog): void {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  const live = new Set<Worker>();
  const aggregator = new AggregatorRegistry();

  const fork = (): Promise<void> =>
    new Promise((resolve) => {
      const worker = cluster.fork();
      live.add(worker);
      worker.on("message", (message: unknown) => {
        if (message === WORKER_READY) resolve();
        else if (isMetricsMessage(message) && message.type === METRICS_REQUEST) {
          const answer = (m: MetricsMessage) => {
            if (worker.isConnected()) worker.send(m);
          };
          aggregator
            .clusterMetrics()
            .then((text) => answer({ type: METRICS_ANSWER, id: message.id, text }))
            .catch((err: Error) => answer({ type: METRICS_ANSWER, id: message.id, error: err.message }));
        }
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
