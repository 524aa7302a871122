import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type KeyObject,
  X509Certificate,
} from "node:crypto";
import { CompactSign, compactVerify, decodeProtectedHeader, errors as joseErrors } from "jose";
import { BundleError } from "./bundle-error.ts";
import { readTarGz, type TarFiles, writeTarGz } from "./tar.ts";

// OPA's bundle signing format, so bundles signed by `opa build --signing-key` / `opa sign` verify
// here and bundles signed by `residency bundle sign` verify in OPA (`--verification-key`):
//
//   .signatures.json = {"signatures": ["<JWT>"]}          exactly one compact JWS
//   JWT payload      = {"files": [{"name", "hash", "algorithm"}], "keyid"?, "scope"?, "iat"?, "iss"?}
//
// Every file of the bundle but .signatures.json is listed, by its path without the leading "/".
// A file's hash is over its bytes, except for structured documents (data.json, .manifest, ...):
// those are parsed and hashed in OPA's canonical form — `{`, then each key in byte order as a JSON
// string, `:`, the value's form, `,` between members, `}`; arrays alike with `[` `]`; strings and
// numbers as Go's encoding/json writes them (numbers exactly as written in the file) — so
// re-indenting data.json does not break a signature but changing a value does.
//
// Keys are never guessed (docs/decisions/0012-hostile-bundles.md): BUNDLE_VERIFICATION_KEY is a PEM
// public key or certificate (it must start with "-----BEGIN"), or an HMAC secret only when the
// algorithm is named explicitly (BUNDLE_VERIFICATION_ALG=HS256|HS384|HS512). Text that is neither —
// a certificate printed without its PEM armour, a PEM private key — is refused, so public text can
// never become a shared secret anyone could sign with. The CLI's `sign` follows the same rule with
// `--alg`. The key decides which JWT algorithms are accepted, so an RSA key is never fed HS256.

export const SIGNATURES_FILE = ".signatures.json";

/** A check of a candidate's files before anything in them runs; throws BundleError. */
export type VerifyFiles = (files: TarFiles) => Promise<void>;

const STRUCTURED = new Set(["data.json", ".manifest", "signatures.json", ".signatures.json"]);
const YAML_DATA = new Set(["data.yaml", "data.yml"]);

const HASHES: Record<string, string> = {
  "SHA-224": "sha224",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
  "SHA-512-224": "sha512-224",
  "SHA-512-256": "sha512-256",
};
// OPA also accepts MD5 and SHA-1 file digests; a compliance bundle does not.
const WEAK_HASHES = new Set(["MD5", "SHA-1"]);

const RSA_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
const HMAC_ALGS = ["HS256", "HS384", "HS512"];
const CURVE_ALG: Record<string, string> = { prime256v1: "ES256", secp384r1: "ES384", secp521r1: "ES512" };
const MIN_SECRET_BYTES = 32;

export type JwsKey = {
  kind: "public" | "private" | "secret";
  key: KeyObject;
  /** JWT `alg` values this key may verify or produce. */
  algorithms: string[];
  /** For messages: "RSA 2048-bit public key", "HMAC secret", ... */
  description: string;
};

export function isPem(text: string): boolean {
  return text.trimStart().startsWith("-----BEGIN");
}

/** Environment variables often carry a PEM with literal "\n": accept both forms. */
function pemText(text: string): string {
  return text.includes("\\n") && !text.includes("\n") ? text.replaceAll("\\n", "\n") : text;
}

function describe(kind: JwsKey["kind"], key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case "rsa":
    case "rsa-pss":
      return `RSA ${details?.modulusLength ?? "?"}-bit ${kind} key`;
    case "ec":
      return `EC ${details?.namedCurve ?? "?"} ${kind} key`;
    default:
      return `${key.asymmetricKeyType ?? "unknown"} ${kind} key`;
  }
}

function asymmetricAlgorithms(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case "rsa":
      return RSA_ALGS;
    case "rsa-pss":
      return RSA_ALGS.filter((a) => a.startsWith("PS"));
    case "ec": {
      const alg = CURVE_ALG[key.asymmetricKeyDetails?.namedCurve ?? ""];
      if (!alg) throw new Error(`unsupported EC curve ${key.asymmetricKeyDetails?.namedCurve ?? "?"}`);
      return [alg];
    }
    case "ed25519":
      return ["EdDSA"];
    default:
      throw new Error(`unsupported key type ${key.asymmetricKeyType ?? "?"}`);
  }
}

export const HMAC_ALGORITHMS: readonly string[] = HMAC_ALGS;

function secretKey(text: string, algorithm: string): JwsKey {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new Error(`an HMAC secret must be at least ${MIN_SECRET_BYTES} bytes (got ${bytes.length})`);
  }
  return { kind: "secret", key: createSecretKey(bytes), algorithms: [algorithm], description: "HMAC secret" };
}

/** Narrows a key to the one algorithm named, which must be one the key can use. */
function only(key: JwsKey, algorithm: string | undefined): JwsKey {
  if (algorithm === undefined) return key;
  if (!key.algorithms.includes(algorithm)) {
    throw new Error(
      `${algorithm} cannot be used with a ${key.description} (use ${key.algorithms.join(", ")})`,
    );
  }
  return { ...key, algorithms: [algorithm] };
}

/**
 * How to name the algorithm where the key comes from — `BUNDLE_VERIFICATION_ALG=HS256`, `--alg
 * HS256` — for the message that refuses a secret given without it.
 */
export type KeySource = { nameAlgorithm: string };

/** A key that is not PEM: an HMAC secret if (and only if) an HMAC algorithm is named. */
function nonPem(text: string, algorithm: string | undefined, source: KeySource, pemKind: string): JwsKey {
  if (algorithm !== undefined && HMAC_ALGS.includes(algorithm)) return secretKey(text, algorithm);
  if (algorithm !== undefined) {
    throw new Error(`${algorithm} needs a PEM ${pemKind} (text starting with "-----BEGIN")`);
  }
  throw new Error(
    `not a PEM ${pemKind} (no "-----BEGIN" line); to use it as an HMAC secret name the algorithm: ${source.nameAlgorithm}`,
  );
}

/**
 * BUNDLE_VERIFICATION_KEY (and BUNDLE_VERIFICATION_ALG) → a key and the algorithms it accepts.
 * Throws an Error naming the problem.
 */
export function parseVerificationKey(
  text: string,
  algorithm?: string,
  source: KeySource = { nameAlgorithm: "BUNDLE_VERIFICATION_ALG=HS256" },
): JwsKey {
  if (!isPem(text)) return nonPem(text, algorithm, source, "public key or certificate");
  const pem = pemText(text.trim());
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new Error("holds a private key; configure its public key (the service only verifies)");
  }
  let key: KeyObject;
  try {
    key = pem.includes("-----BEGIN CERTIFICATE") ? new X509Certificate(pem).publicKey : createPublicKey(pem);
  } catch (err) {
    throw new Error(`not a usable PEM public key or certificate (${(err as Error).message})`);
  }
  return only(
    { kind: "public", key, algorithms: asymmetricAlgorithms(key), description: describe("public", key) },
    algorithm,
  );
}

/** A signing key: a PEM private key, or an HMAC secret when an HMAC `algorithm` is named. */
export function parseSigningKey(
  text: string,
  algorithm?: string,
  source: KeySource = { nameAlgorithm: "--alg HS256" },
): JwsKey {
  if (!isPem(text)) return nonPem(text.replace(/\r?\n$/, ""), algorithm, source, "private key");
  let key: KeyObject;
  try {
    key = createPrivateKey(pemText(text.trim()));
  } catch (err) {
    throw new Error(`not a usable PEM private key (${(err as Error).message})`);
  }
  return only(
    { kind: "private", key, algorithms: asymmetricAlgorithms(key), description: describe("private", key) },
    algorithm,
  );
}

// ---------------------------------------------------------------------------------------------
// File digests

/** The digest OPA records for a bundle file (hex), structured documents in canonical form. */
export function hashBundleFile(name: string, bytes: Buffer, algorithm = "SHA-256"): string {
  const hashName = HASHES[algorithm];
  if (!hashName) {
    throw new Error(
      WEAK_HASHES.has(algorithm)
        ? `${name}: hash algorithm ${algorithm} is too weak (use SHA-256 or stronger)`
        : `${name}: unsupported hash algorithm "${algorithm}"`,
    );
  }
  const hash = createHash(hashName);
  const base = name.slice(name.lastIndexOf("/") + 1);
  if (YAML_DATA.has(base)) throw new Error(`${name}: YAML data files cannot be verified by this service`);
  if (STRUCTURED.has(base)) {
    let value: JsonValue;
    try {
      value = parseJson(stripBom(bytes).toString("utf8"));
    } catch (err) {
      throw new Error(`${name}: not valid JSON (${(err as Error).message})`);
    }
    hash.update(canonical(value), "utf8");
  } else {
    hash.update(bytes);
  }
  return hash.digest("hex");
}

function stripBom(bytes: Buffer): Buffer {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

// A JSON tree that keeps each number's literal text (Go decodes bundle JSON into json.Number and
// writes it back verbatim, so `1.0` and `1` hash differently).
type JsonValue = null | boolean | string | { num: string } | JsonValue[] | { obj: Map<string, JsonValue> };

function parseJson(text: string): JsonValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at offset ${i}`);
  };
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t"))
      i++;
  };
  const str = (): string => {
    const end = (() => {
      for (let j = i + 1; j < text.length; j++) {
        if (text[j] === "\\") j++;
        else if (text[j] === '"') return j;
      }
      return fail("unterminated string");
    })();
    const literal = text.slice(i, end + 1);
    i = end + 1;
    try {
      return (JSON.parse(literal) as string).toWellFormed(); // Go turns lone surrogates into U+FFFD
    } catch {
      return fail("invalid string");
    }
  };
  const value = (): JsonValue => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj = new Map<string, JsonValue>();
      ws();
      if (text[i] === "}") {
        i++;
        return { obj };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a key");
        const key = str();
        ws();
        if (text[i++] !== ":") fail("expected ':'");
        obj.set(key, value()); // duplicate keys: the last wins, as in Go
        ws();
        const next = text[i++];
        if (next === "}") return { obj };
        if (next !== ",") fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        const next = text[i++];
        if (next === "]") return arr;
        if (next !== ",") fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m && m[0] !== "" && m[0] !== "-") {
      i += m[0].length;
      return { num: m[0] };
    }
    for (const [word, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail("unexpected character");
  };
  const result = value();
  ws();
  if (i !== text.length) fail("unexpected trailing content");
  return result;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

function canonical(v: JsonValue): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "string") return goString(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if ("num" in v) return v.num;
  const keys = [...v.obj.keys()].sort(byteOrder);
  return `{${keys.map((k) => `${goString(k)}:${canonical(v.obj.get(k)!)}`).join(",")}}`;
}

/** A string as Go's encoding/json writes it with SetEscapeHTML(false). */
function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (code < 0x20 || code === 0x2028 || code === 0x2029)
      out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

// ---------------------------------------------------------------------------------------------
// Verification

type FileInfo = { name: string; hash: string; algorithm: string };

const invalid = (message: string) => new BundleError("BUNDLE_SIGNATURE_INVALID", message);

function shortHash(hex: string): string {
  return `${hex.slice(0, 12)}…`;
}

function listing(names: string[]): string {
  return names.length <= 5
    ? names.join(", ")
    : `${names.slice(0, 5).join(", ")} and ${names.length - 5} more`;
}

/**
 * The loader's `verify` hook: refuses unsigned bundles and any bundle whose signature does not
 * verify with `key` or whose files differ from what was signed. Errors are BundleErrors with a
 * message naming exactly what is wrong.
 */
export function createBundleVerifier(key: JwsKey, options: { scope?: string } = {}): VerifyFiles {
  const expectedScope = options.scope ?? "";
  return async (files: TarFiles) => {
    const raw = files.get(SIGNATURES_FILE);
    if (!raw) {
      throw new BundleError(
        "BUNDLE_UNSIGNED",
        "bundle has no .signatures.json; a verification key is configured, so unsigned bundles are refused",
      );
    }
    let config: { signatures?: unknown; plugin?: unknown };
    try {
      config = JSON.parse(raw.toString("utf8")) as typeof config;
    } catch {
      throw invalid(".signatures.json is not JSON");
    }
    const tokens = config?.signatures;
    if (!Array.isArray(tokens) || tokens.length === 0) {
      throw new BundleError("BUNDLE_UNSIGNED", ".signatures.json holds no JWT (expected exactly one)");
    }
    if (tokens.length > 1) throw invalid(".signatures.json holds several JWTs (expected exactly one)");
    // opa writes "plugin": "_default" (its built-in JWT verifier); custom plugins mean another format.
    if (config.plugin !== undefined && config.plugin !== "_default") {
      throw invalid(`signature plugin "${String(config.plugin)}" is not supported`);
    }
    const token = tokens[0];
    if (typeof token !== "string") throw invalid(".signatures.json: the signature is not a string");

    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw invalid("the JWT in .signatures.json is malformed");
    }
    if (!alg || !key.algorithms.includes(alg)) {
      throw invalid(
        `the bundle is signed with ${alg ?? "no algorithm"}, which the configured ${key.description} cannot verify (accepts ${key.algorithms.join(", ")})`,
      );
    }
    let payloadBytes: Uint8Array;
    try {
      ({ payload: payloadBytes } = await compactVerify(token, key.key, { algorithms: key.algorithms }));
    } catch (err) {
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
        throw invalid(
          `the ${alg} signature does not verify with the configured ${key.description} (signed with another key, or the signature was altered)`,
        );
      }
      throw invalid(`the JWT was refused: ${(err as Error).message}`);
    }

    let payload: { files?: unknown; scope?: unknown };
    try {
      payload = JSON.parse(Buffer.from(payloadBytes).toString("utf8")) as typeof payload;
    } catch {
      throw invalid("the JWT payload is not JSON");
    }
    const scope = typeof payload.scope === "string" ? payload.scope : "";
    if (scope !== expectedScope) {
      throw invalid(`signature scope "${scope}" does not match the expected scope "${expectedScope}"`);
    }
    if (!Array.isArray(payload.files)) throw invalid("the JWT payload has no files list");
    const signed = new Map<string, FileInfo>();
    for (const f of payload.files as Array<Partial<FileInfo>>) {
      if (typeof f?.name !== "string" || typeof f.hash !== "string" || typeof f.algorithm !== "string") {
        throw invalid("the JWT payload lists a file without name, hash or algorithm");
      }
      signed.set(f.name.replace(/^\/+/, ""), f as FileInfo);
    }

    const mismatched: string[] = [];
    const unsigned: string[] = [];
    for (const [name, bytes] of files) {
      if (name === SIGNATURES_FILE) continue;
      const entry = signed.get(name);
      if (!entry) {
        unsigned.push(name);
        continue;
      }
      signed.delete(name);
      let actual: string;
      try {
        actual = hashBundleFile(name, bytes, entry.algorithm);
      } catch (err) {
        throw invalid((err as Error).message);
      }
      if (actual !== entry.hash.toLowerCase()) {
        mismatched.push(
          `${name} (signed ${shortHash(entry.hash)}, content ${shortHash(actual)}: changed after signing)`,
        );
      }
    }
    const problems: string[] = [];
    if (mismatched.length > 0) problems.push(`digest mismatch: ${listing(mismatched)}`);
    if (unsigned.length > 0) problems.push(`not covered by the signature: ${listing(unsigned)}`);
    if (signed.size > 0) problems.push(`signed but missing from the bundle: ${listing([...signed.keys()])}`);
    if (problems.length > 0) throw invalid(problems.join("; "));
  };
}

// ---------------------------------------------------------------------------------------------
// Signing

export type SignOptions = {
  /** JWT `alg`; default from the key: RS256, ES256/384/512 by curve, EdDSA, HS256. */
  algorithm?: string;
  /** `kid` header and the (deprecated) `keyid` claim OPA still writes; default "default", as opa. */
  keyId?: string;
  /** Extra claims (e.g. scope, iss), as `opa sign --claims-file`. */
  claims?: Record<string, unknown>;
};

/** The .signatures.json that signs every file of `files` (an existing one is ignored). */
export async function signatureFile(
  files: TarFiles,
  key: JwsKey,
  options: SignOptions = {},
): Promise<Buffer> {
  const alg = options.algorithm ?? key.algorithms[0]!;
  if (!key.algorithms.includes(alg)) {
    throw new Error(
      `algorithm ${alg} cannot be used with a ${key.description} (use ${key.algorithms.join(", ")})`,
    );
  }
  const keyId = options.keyId ?? "default";
  const signed: FileInfo[] = [];
  for (const [name, bytes] of files) {
    if (name === SIGNATURES_FILE) continue;
    signed.push({ name, hash: hashBundleFile(name, bytes), algorithm: "SHA-256" });
  }
  const payload = options.claims ? { files: signed, ...options.claims } : { files: signed, keyid: keyId };
  const token = await new CompactSign(Buffer.from(JSON.stringify(payload), "utf8"))
    .setProtectedHeader({ alg, kid: keyId, typ: "JWT" })
    .sign(key.key);
  return Buffer.from(JSON.stringify({ signatures: [token] }, null, 1), "utf8");
}

/** A copy of the bundle with a fresh .signatures.json (placed before .manifest, as opa does). */
export async function signBundle(bytes: Buffer, key: JwsKey, options: SignOptions = {}): Promise<Buffer> {
  const files = await readTarGz(bytes);
  files.delete(SIGNATURES_FILE);
  const signatures = await signatureFile(files, key, options);
  const out: TarFiles = new Map();
  for (const [name, body] of files) {
    if (name === ".manifest") out.set(SIGNATURES_FILE, signatures);
    out.set(name, body);
  }
  if (!out.has(SIGNATURES_FILE)) out.set(SIGNATURES_FILE, signatures);
  return writeTarGz(out);
}
