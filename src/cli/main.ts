import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as audit from "./audit.ts";
import * as bundle from "./bundle.ts";
import { check } from "./check.ts";
import { createCliClient } from "./client.ts";
import { CliError, type Io } from "./output.ts";

// `residency` — the command-line entry (bin/residency.mjs). `run` returns the exit code instead of
// exiting, so tests drive it in-process; every failure is one line on stderr.

type Command = { args: string; what: string; options?: string[]; more?: string };

const COMMANDS: Record<string, Command> = {
  build: {
    args: "",
    what: "compile rego/ into bundles/residency.tar.gz (as make bundle)",
    options: [
      "--rego <dir>          the Rego sources (default rego)",
      "--out <file>          where to write (default bundles/residency.tar.gz)",
      "--revision <rev>      default rev-<sha256 of the sources>",
      "--opa <path>          the opa binary (default $OPA, then PATH, then $(go env GOPATH)/bin)",
      "--capabilities <file> default mk/opa-wasm-capabilities.json",
      "--signing-key <file> [--signing-alg <alg>]   sign the result too",
    ],
  },
  check: {
    args: "",
    what: "offline: load a bundle in opa-wasm, run its self-check, list its entrypoints",
    options: ["--file <file>   default bundles/residency.tar.gz", "--json"],
    more: "Exit 1 (with the rejection code) when the service would refuse the bundle.",
  },
  sign: {
    args: "",
    what: "write .signatures.json into a bundle (OPA's signing format)",
    options: [
      "--key <file>      PEM private key, or a file holding an HMAC secret",
      "--alg <alg>       RS256|ES256|PS256|HS256|...",
      "--key-id <id>  --in <file>  --out <file>",
    ],
  },
  push: {
    args: "",
    what: "upload and activate a bundle on every instance",
    options: ["--file <file>   default bundles/residency.tar.gz", "--dry-run       as diff", "--json"],
  },
  diff: {
    args: "",
    what: "what would change: replay recent decisions through a bundle, activate nothing",
    options: [
      "--file <file>  --limit <n> (default 1000)  --examples <n> (default 10)",
      "--fail-on-change   exit 3 when a decision would change or could not be replayed (for CI)",
      "--json",
    ],
  },
  status: { args: "", what: "the active bundle and the recent activations", options: ["--json"] },
  rollback: { args: "<revision>", what: "serve a stored revision again", options: ["--json"] },
};

const GLOBAL = `options
  --url <url>       the service (default $RESIDENCY_URL, else http://127.0.0.1:8080; host:port means http)
  --api-key <key>   default $RESIDENCY_API_KEY (role bundle_publisher to push/rollback)
  --json            print the JSON answer
  -h, --help        this help, or a command's: residency bundle <command> --help
  --version         the CLI's version
`;

const pad = (s: string, n: number) => s + " ".repeat(Math.max(1, n - s.length));

function commandList(): string {
  return Object.entries(COMMANDS)
    .map(([name, c]) => `  ${pad(`${name}${c.args ? ` ${c.args}` : ""}`, 20)}${c.what}\n`)
    .join("");
}

export const USAGE = `usage: residency bundle <command> [options]
       residency audit verify <archive-or-directory> --public-key <file> [--json]

commands
${commandList()}
audit verify <archive-or-directory> --public-key <file> [--json]
                      offline check of audit archives: every checkpoint's signature and link,
                      every segment against its checkpoint; names a changed, missing or
                      reordered segment. Exit 0 when everything verifies, 1 when not.

${GLOBAL}`;

function commandHelp(name: string, c: Command): string {
  return (
    `usage: residency bundle ${name}${c.args ? ` ${c.args}` : ""} [options]\n\n${c.what}\n` +
    (c.more ? `${c.more}\n` : "") +
    (c.options?.length ? `\n${c.options.map((o) => `  ${o}\n`).join("")}` : "") +
    `\n${GLOBAL}`
  );
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

const OPTIONS = {
  url: { type: "string" },
  "api-key": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
  file: { type: "string", short: "f" },
  "dry-run": { type: "boolean" },
  "fail-on-change": { type: "boolean" },
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
  "public-key": { type: "string" },
} as const;

/** Exit code of `bundle diff --fail-on-change` when a decision would change. */
export const EXIT_CHANGED = 3;

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
  if (flags.version) {
    io.stdout.write(`residency ${version()}\n`);
    return 0;
  }
  if (group === "help") return run([...positionals.slice(1), "--help"], io);
  if (!group) {
    (flags.help ? io.stdout : io.stderr).write(USAGE);
    return flags.help ? 0 : 2;
  }
  if (group === "audit" && command === "verify") {
    try {
      return await audit.verify(io, rest, flags);
    } catch (err) {
      if (err instanceof CliError) {
        io.stderr.write(`residency: ${err.message}\n`);
        return err.exitCode;
      }
      io.stderr.write(`residency: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
      return 1;
    }
  }
  if (group !== "bundle") {
    io.stderr.write(
      `residency: unknown command "${group}" (the commands are under "residency bundle" and "residency audit verify")\n\n${USAGE}`,
    );
    return 2;
  }
  if (!command) {
    (flags.help ? io.stdout : io.stderr).write(
      `usage: residency bundle <command> [options]\n\ncommands\n${commandList()}\nresidency bundle <command> --help for a command's options\n`,
    );
    return flags.help ? 0 : 2;
  }
  const spec = COMMANDS[command];
  if (!spec) {
    io.stderr.write(`residency: unknown bundle command "${command}"; the commands are:\n${commandList()}`);
    return 2;
  }
  if (flags.help) {
    io.stdout.write(commandHelp(command, spec));
    return 0;
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
      case "check":
        await check(io, flags, bundle.DEFAULT_BUNDLE);
        break;
      case "sign":
        await bundle.sign(io, flags);
        break;
      case "push":
        await bundle.push(io, client(), flags);
        break;
      case "diff": {
        const report = await bundle.diff(io, client(), flags);
        if (flags["fail-on-change"] && (report.changed > 0 || report.errors > 0)) {
          io.stderr.write(
            `residency: ${report.changed} decisions would change, ${report.errors} could not be replayed (--fail-on-change)\n`,
          );
          return EXIT_CHANGED;
        }
        break;
      }
      case "status":
        await bundle.status(io, client(), flags);
        break;
      case "rollback":
        await bundle.rollback(io, client(), rest, flags);
        break;
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
