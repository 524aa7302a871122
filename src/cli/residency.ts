import { run } from "./main.ts";

// Entry point of `npx residency …` (bin/residency.mjs loads this through tsx).
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
