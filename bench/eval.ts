// Raw policy evaluation: one Node process, the committed wasm bundle, the realistic golden input
// (learner + tenant policy merged, two frameworks, one active override). Prints evaluations/s and
// p50/p99 per evaluation of `residency/decision`. Target: ≥ 50,000/s on one core.

import { readFileSync } from "node:fs";
import { loadBundle } from "../src/policy/bundle.ts";

type GoldenCase = { name: string; entrypoint: string; input: unknown };

const bundle = await loadBundle(readFileSync("bundles/residency.tar.gz"));
const golden = JSON.parse(readFileSync("golden/data.json", "utf8")) as { golden: { cases: GoldenCase[] } };
const bench = golden.golden.cases.find((c) => c.name === "bench_realistic");
if (!bench) throw new Error("golden case bench_realistic is missing");

const durationMs = Number(process.env.BENCH_MS ?? 5_000);
const entrypoints = ["residency/decision", "inference/route"] as const;
const inferenceCase = golden.golden.cases.find(
  (c) => c.entrypoint === "inference/route" && c.name.includes("appendix"),
);

console.log(
  `bundle ${bundle.revision} · input ${JSON.stringify(bench.input).length} bytes JSON · ${durationMs} ms per entrypoint`,
);
for (const entrypoint of entrypoints) {
  const input = entrypoint === "residency/decision" ? bench.input : inferenceCase?.input;
  if (!input) continue;
  for (let i = 0; i < 2_000; i++) bundle.evaluate(entrypoint, input); // warm-up (JIT, wasm tiers)
  const samples: number[] = [];
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < durationMs) {
    const t0 = process.hrtime.bigint();
    bundle.evaluate(entrypoint, input);
    samples.push(Number(process.hrtime.bigint() - t0) / 1_000);
    n++;
  }
  const elapsed = (performance.now() - start) / 1_000;
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!.toFixed(1);
  console.log(
    `${entrypoint.padEnd(20)} ${Math.round(n / elapsed)
      .toLocaleString("en-US")
      .padStart(9)} evaluations/s   p50 ${q(0.5)} µs   p99 ${q(0.99)} µs   (${n} evaluations)`,
  );
}
