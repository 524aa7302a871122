import { parseArgs } from "node:util";
import * as bundle from "./bundle.ts";
import { createCliClient } from "./client.ts";
import { CliError, type Io } from "./output.ts";

// `residency` — the command-line entry (bin/residency.mjs). `run` returns the exit code instead of
// exiting, so tests drive it in-process; every failure is one line on stderr.

export const USAGE = `usage: residency bundle <command> [options]

commands
  build     compile rego/ into bundles/residency.tar.gz (as make bundle)
              --rego <dir>  --out <file>  --revision <rev>  --opa <path>
              --signing-key <file> [--signing-alg <alg>]   sign the result too
  sign      write .signatures.json into a bundle (OPA's signing format)
              --key <file> (PEM private key; an HMAC secret only with --alg HS256|HS384|HS512)
              [--alg RS256|ES256|PS256|HS256|...] [--key-id <id>] [--in <file>] [--out <file>]
  push      upload and activate a bundle on every instance      [--file <file>] [--dry-run]
  diff      what would change: replay recent decisions through a bundle, activate nothing
              [--file <file>] [--limit <n>] [--examples <n>]
  status    the active bundle and the recent activations
  rollback  <revision>  serve a stored revision again

options
  --url <url>       the service (default $RESIDENCY_URL, else http://127.0.0.1:8080)
  --api-key <key>   default $RESIDENCY_API_KEY (role bundle_publisher to push/rollback)
  --json            print the server's JSON answer
`;

const OPTIONS = {
  url: { type: "string" },
  "api-key": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  file: { type: "string", short: "f" },
  "dry-run": { type: "boolean" },
  limit: { type: "string" },
  examples: { type: "string" },
  key: { type: "string" },
  alg: { type: "string" },
  "key-id": { type: "string" },
  in: { type: "string" },
  out: { type: "string", short: "o" },
  rego: { type: "string" },
  revision: { type: "string" },
  opa: { type: "string" },
  capabilities: { type: "string" },
  "signing-key": { type: "string" },
  "signing-alg": { type: "string" },
} as const;

export async function run(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr.write(`residency: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: flags, positionals } = parsed;
  const [group, command, ...rest] = positionals;
  if (flags.help || !group) {
    io.stdout.write(USAGE);
    return flags.help ? 0 : 2;
  }
  if (group !== "bundle" || !command) {
    io.stderr.write(`residency: unknown command "${positionals.join(" ")}"\n\n${USAGE}`);
    return 2;
  }
  const client = () =>
    createCliClient({
      url: flags.url ?? io.env.RESIDENCY_URL ?? "http://127.0.0.1:8080",
      apiKey: flags["api-key"] ?? io.env.RESIDENCY_API_KEY ?? null,
    });
  try {
    switch (command) {
      case "build":
        await bundle.build(io, flags);
        break;
      case "sign":
        await bundle.sign(io, flags);
        break;
      case "push":
        await bundle.push(io, client(), flags);
        break;
      case "diff":
        await bundle.diff(io, client(), flags);
        break;
      case "status":
        await bundle.status(io, client(), flags);
        break;
      case "rollback":
        await bundle.rollback(io, client(), rest, flags);
        break;
      default:
        io.stderr.write(`residency: unknown bundle command "${command}"\n\n${USAGE}`);
        return 2;
    }
    return 0;
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr.write(`residency: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`residency: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
