import { createContext, Script } from "node:vm";

// A hard deadline for one synchronous call on the calling thread — the only way to stop a wasm
// evaluation that does not end: opa-wasm runs on the event loop, and no timer or other thread can
// interrupt it from JavaScript. `vm`'s `timeout` can: Node arms a watchdog thread that, when the time
// is up, terminates the running script (V8 checks for termination at every wasm loop back-edge and
// call), then cancels the termination and throws ERR_SCRIPT_EXECUTION_TIMEOUT. The function runs in
// this realm (the context only holds a reference to it), so it sees its own closures and values.
//
// Cost: one watchdog thread per call, ~60–70 µs on the development machine (docs/decisions/
// 0012-hostile-bundles.md); callers use it only around the wasm, never around a memo hit.

export class EvaluationTimeout extends Error {
  readonly code = "EVALUATION_TIMEOUT";
  constructor(readonly budgetMs: number) {
    super(`the evaluation exceeded its ${budgetMs} ms budget and was stopped`);
    this.name = "EvaluationTimeout";
  }
}

export type Deadline = <T>(fn: () => T) => T;

/** Runs `fn` with at most `ms` of execution; throws EvaluationTimeout when it is stopped. */
export function createDeadline(ms: number): Deadline {
  const sandbox: { fn: (() => unknown) | null } = { fn: null };
  const context = createContext(sandbox);
  const script = new Script("fn()", { filename: "evaluation-deadline" });
  return <T>(fn: () => T): T => {
    sandbox.fn = fn;
    try {
      return script.runInContext(context, { timeout: ms }) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException)?.code === "ERR_SCRIPT_EXECUTION_TIMEOUT")
        throw new EvaluationTimeout(ms);
      throw err;
    } finally {
      sandbox.fn = null;
    }
  };
}
