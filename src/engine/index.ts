// The engine room's declared interface: what other rooms may import from it at run time.

export type { MemoStats } from "./decision-memo.ts";
export { createPolicyEngine, type PolicyEngine, type Servable } from "./engine.ts";
export {
  type EvaluateOptions,
  type Evaluator,
  type InstantiateOptions,
  instantiate,
  WASM_MEMORY_MB,
} from "./evaluator.ts";
export type { DeclaredFields } from "./input-json.ts";
