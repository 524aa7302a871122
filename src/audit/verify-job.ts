// The full verification as a job: start it, then poll its progress (docs/decisions/0007). A day
// of this service's log is hundreds of millions of records, far too long for one HTTP request.
//
// The job walks the whole online chain (verify.ts) and checks every checkpoint on the way: its
// hash, its signature, its link to the one before, and that the record it names carries the hash
// it states. Jobs live in this instance's memory (a restart forgets them; start another).

import type { KeyObject } from "node:crypto";
import { randomUUID } from "node:crypto";
import { toError } from "../errors.ts";
import type { Queryable } from "../store/db.ts";
import { type Checkpoint, checkpointProblem, linkProblem } from "./checkpoint.ts";
import {
  CHECKPOINT_COLUMNS,
  type CheckpointFinding,
  type CheckpointRow,
  chainStart,
  readHead,
  toCheckpoint,
  walkChain,
} from "./verify.ts";

export type VerifyJobView = {
  job_id: string;
  state: "running" | "succeeded" | "failed";
  started_at: string;
  finished_at: string | null;
  /** The head when the job started: the walk ends there. */
  head_seq: number;
  /** The walk starts after this seq (0, or the end of the last archived range). */
  from_seq: number;
  checked: number;
  /** checked / records to check, 0..100. */
  percent: number;
  /** Records per second so far. */
  rate_per_s: number;
  /** Seconds left at the current rate (null until there is a rate). */
  eta_s: number | null;
  checkpoints_checked: number;
  /** Set once succeeded: the chain and every checkpoint verify. */
  ok: boolean | null;
  first_broken_seq: number | null;
  first_bad_checkpoint: CheckpointFinding | null;
  /** Set when the job could not run to the end (the store went away, say). */
  error: string | null;
};

export type VerifyJobs = {
  /** Starts a job, or returns the one already running (one full walk at a time is plenty). */
  start(): VerifyJobView;
  get(jobId: string): VerifyJobView | null;
  /** Resolves once no job is running (shutdown, tests). */
  idle(): Promise<void>;
};

const KEPT_JOBS = 20;
const CHECKPOINT_PAGE = 1000;

export function createVerifyJobs(options: {
  db: Queryable;
  publicKey: KeyObject | null;
  batchSize?: number;
  clock?: () => Date;
}): VerifyJobs {
  const clock = options.clock ?? (() => new Date());
  const jobs = new Map<string, VerifyJobView>();
  let running: { view: VerifyJobView; done: Promise<void> } | null = null;

  function start(): VerifyJobView {
    if (running) return { ...running.view };
    const view: VerifyJobView = {
      job_id: randomUUID(),
      state: "running",
      started_at: clock().toISOString(),
      finished_at: null,
      head_seq: 0,
      from_seq: 0,
      checked: 0,
      percent: 0,
      rate_per_s: 0,
      eta_s: null,
      checkpoints_checked: 0,
      ok: null,
      first_broken_seq: null,
      first_bad_checkpoint: null,
      error: null,
    };
    jobs.set(view.job_id, view);
    while (jobs.size > KEPT_JOBS) jobs.delete(jobs.keys().next().value!);
    const done = run(view)
      .catch((err) => {
        view.state = "failed";
        view.error = toError(err).message;
      })
      .finally(() => {
        view.finished_at = clock().toISOString();
        running = null;
      });
    running = { view, done };
    return { ...view };
  }

  async function run(view: VerifyJobView): Promise<void> {
    const { db } = options;
    const head = await readHead(db);
    const start = await chainStart(db);
    view.head_seq = head.seq;
    view.from_seq = start.after_seq;
    const total = Math.max(0, head.seq - start.after_seq);
    const began = performance.now();

    // Checkpoints in id order, consumed as the walk passes their last_seq. The queue is topped up
    // after every page to more than a page of records could pass (last_seq is unique).
    const batchSize = options.batchSize ?? 5000;
    const queue: Checkpoint[] = [];
    let loadedTo = start.after_seq;
    let exhausted = false;
    let previous: Checkpoint | null = null;
    let firstCheckpoint = true;
    const refill = async (): Promise<void> => {
      while (!exhausted && queue.length <= batchSize) {
        const { rows } = await db.query<CheckpointRow>(
          `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE last_seq > $1 AND last_seq <= $2 ORDER BY last_seq LIMIT $3`,
          [loadedTo, head.seq, CHECKPOINT_PAGE],
        );
        for (const row of rows) queue.push(toCheckpoint(row));
        if (queue.length > 0) loadedTo = queue[queue.length - 1]!.last_seq;
        exhausted = rows.length < CHECKPOINT_PAGE;
      }
    };
    await refill();

    const walked = await walkChain(db, {
      start,
      headSeq: head.seq,
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      onRecord(seq, hash) {
        const c = queue[0];
        if (!c || c.last_seq !== seq) return null;
        queue.shift();
        const problem =
          checkpointProblem(c, options.publicKey) ??
          // The first checkpoint after an archived range links to one that left with the archive.
          (firstCheckpoint && start.after_seq > 0 ? null : linkProblem(previous, c)) ??
          (c.head_hash === hash ? null : "head_mismatch");
        firstCheckpoint = false;
        if (problem !== null && view.first_bad_checkpoint === null) {
          view.first_bad_checkpoint = { id: c.id, last_seq: c.last_seq, problem };
        }
        view.checkpoints_checked += 1;
        previous = c;
        return null;
      },
      async onPage(checked) {
        view.checked = checked;
        const seconds = (performance.now() - began) / 1000;
        view.rate_per_s = seconds > 0 ? Math.round(checked / seconds) : 0;
        view.percent = total === 0 ? 100 : Math.floor((checked / total) * 1000) / 10;
        view.eta_s = view.rate_per_s > 0 ? Math.round((total - checked) / view.rate_per_s) : null;
        await refill();
      },
    });
    view.checked = walked.checked;
    view.first_broken_seq = walked.first_broken_seq;
    const seconds = (performance.now() - began) / 1000;
    view.rate_per_s = seconds > 0 ? Math.round(walked.checked / seconds) : 0;
    view.percent = walked.first_broken_seq === null ? 100 : view.percent;
    view.eta_s = 0;
    view.ok = walked.first_broken_seq === null && view.first_bad_checkpoint === null;
    view.state = "succeeded";
  }

  return {
    start,
    get: (id) => {
      const view = jobs.get(id);
      return view ? { ...view } : null;
    },
    idle: async () => {
      while (running) await running.done;
    },
  };
}
