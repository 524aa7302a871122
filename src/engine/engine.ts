import type { Evaluator } from "./evaluator.ts";

// The engine serves one prepared bundle at a time. A candidate is prepared beside the live one
// (bundles/candidate.ts: parsed, verified, instantiated, self-checked — once) and becomes live by
// one assignment, so every decision, reading `current()` once, sees exactly one revision.

/** What the engine can serve: an evaluator that knows which bundle it is. */
export type Servable = Pick<Evaluator, "evaluate"> &
  Partial<Pick<Evaluator, "close">> & { revision: string; sha256: string };

export type PolicyEngine<B extends Servable = Servable> = {
  /** The serving bundle, or null before the first activation. Read it once per decision. */
  current(): B | null;
  /** Makes a prepared candidate the serving bundle; returns the one it replaces. */
  activate(candidate: B): B | null;
};

export function createPolicyEngine<B extends Servable>(
  events: { onActivated?: (bundle: B, previous: B | null) => void } = {},
): PolicyEngine<B> {
  let live: B | null = null;
  return {
    current: () => live,
    activate(candidate) {
      const previous = live;
      live = candidate; // the one atomic swap: decisions read `live` once each
      // The replaced bundle may be kept (to fall back to) and still answers, on its own instance.
      if (previous !== candidate) previous?.close?.();
      events.onActivated?.(candidate, previous);
      return previous;
    },
  };
}
