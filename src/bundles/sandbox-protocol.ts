import type { BundleRejection } from "./bundle-error.ts";
import type { AuditRow, DryRunReport } from "./dry-run.ts";

// The messages between sandbox.ts and its worker (sandbox-worker.ts), apart from both so neither
// imports the other: the parent starts the worker by its URL, the worker answers in these shapes.

/** What a worker is asked to do, with the candidate's bytes. */
export type SandboxTask = { bytes: Uint8Array } & (
  | { kind: "check"; recorded: AuditRow[] }
  | { kind: "replay"; activeBytes: Uint8Array | null; rows: AuditRow[]; examples: number }
);

export type SandboxRequest = SandboxTask & { shared: SharedArrayBuffer; wasmMemoryMb: number };

export type CheckReport = {
  revision: string;
  failures: string[];
  /** Evaluations run, and how many probes of them (the rest: self-check invariants). */
  evaluations: number;
  probes: number;
  slowest_ms: number;
  slowest: string | null;
  load_ms: number;
};

export type SandboxReply =
  | ({ ok: true; kind: "check" } & CheckReport)
  | { ok: true; kind: "replay"; report: DryRunReport; evaluations: number; load_ms: number }
  | { ok: false; code: BundleRejection; message: string; details?: unknown };
