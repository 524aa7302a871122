// Terminal output for the CLI: results on stdout, progress on stderr (so `--json` output pipes
// cleanly), a spinner with elapsed time when stderr is a terminal, plain lines otherwise.

export type Io = {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
};

/** An error the CLI prints as one line and exits 1 with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function kilobytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MB`
    : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** Runs `fn` while showing `label …`; the line is replaced by ✓/✗ and the elapsed time. */
export async function step<T>(io: Io, label: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const tty = io.stderr.isTTY === true;
  let frame = 0;
  let timer: NodeJS.Timeout | null = null;
  if (tty) {
    const draw = () =>
      io.stderr.write(
        `\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label} … ${seconds(Date.now() - started)}`,
      );
    draw();
    timer = setInterval(draw, 100);
  } else {
    io.stderr.write(`${label} …\n`);
  }
  try {
    const result = await fn();
    if (tty) io.stderr.write(`\r\x1b[2K✓ ${label} (${seconds(Date.now() - started)})\n`);
    return result;
  } catch (err) {
    if (tty) io.stderr.write(`\r\x1b[2K✗ ${label} (${seconds(Date.now() - started)})\n`);
    throw err;
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** A plain text table: columns padded to their widest cell. */
export function table(headers: string[], rows: Array<Array<string | number | null>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null ? "-" : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .map((line) => `  ${line}\n`)
    .join("");
}

export function short(sha256: string): string {
  return sha256.slice(0, 12);
}
