import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BundleError } from "../../src/bundles/bundle-error.ts";
import {
  createBundleVerifier,
  hashBundleFile,
  parseSigningKey,
  parseVerificationKey,
  SIGNATURES_FILE,
  signBundle,
} from "../../src/bundles/signature.ts";
import { readTarGz, writeTarGz } from "../../src/bundles/tar.ts";
import { buildBundle, keyPair, opaBinary, withFile } from "./support.ts";

// OPA's bundle signature format, checked against the real opa binary both ways.

async function refusal(verify: ReturnType<typeof createBundleVerifier>, bytes: Buffer): Promise<BundleError> {
  try {
    await verify(await readTarGz(bytes));
  } catch (err) {
    expect(err).toBeInstanceOf(BundleError);
    return err as BundleError;
  }
  throw new Error("the bundle was accepted");
}

describe("bundle signatures (OPA format)", () => {
  const rsa = keyPair("rsa");
  const other = keyPair("rsa");
  const ec = keyPair("ec");
  const secret = "a-shared-hmac-secret-of-at-least-32-bytes";
  let unsigned: Buffer;
  let work: string;

  beforeAll(() => {
    unsigned = buildBundle("rev-sig-test");
    work = mkdtempSync(join(tmpdir(), "residency-sig-"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("hashes JSON documents in OPA's canonical form: layout-insensitive, value-sensitive", () => {
    const a = hashBundleFile("data.json", Buffer.from('{"b": [1, 2.50, "x"], "a": {"z": null, "y": true}}'));
    const b = hashBundleFile("data.json", Buffer.from('{"a":{"y":true,"z":null},\n  "b":[1,2.50,"x"]}'));
    expect(a).toBe(b);
    // Numbers keep their literal text (Go's json.Number), so 2.50 and 2.5 differ.
    expect(hashBundleFile("data.json", Buffer.from('{"a":{"y":true,"z":null},"b":[1,2.5,"x"]}'))).not.toBe(a);
    // Other files are hashed byte for byte.
    expect(hashBundleFile("x.rego", Buffer.from("package x\n"))).not.toBe(
      hashBundleFile("x.rego", Buffer.from("package  x\n")),
    );
  });

  it.each([
    ["RS256 (RSA)", rsa.privatePem, rsa.publicPem, "RS256"],
    ["PS256 (RSA)", rsa.privatePem, rsa.publicPem, "PS256"],
    ["ES256 (EC P-256)", ec.privatePem, ec.publicPem, "ES256"],
    ["HS256 (shared secret)", secret, secret, "HS256"],
  ])("signs and verifies with %s", async (_name, signing, verification, alg) => {
    const named = alg.startsWith("HS") ? alg : undefined; // a secret only with its algorithm named
    const signed = await signBundle(unsigned, parseSigningKey(signing, named), { algorithm: alg });
    expect((await readTarGz(signed)).has(SIGNATURES_FILE)).toBe(true);
    await createBundleVerifier(parseVerificationKey(verification, named))(await readTarGz(signed));
  });

  it("refuses an unsigned bundle when a key is configured", async () => {
    const err = await refusal(createBundleVerifier(parseVerificationKey(rsa.publicPem)), unsigned);
    expect(err.code).toBe("BUNDLE_UNSIGNED");
    expect(err.message).toContain("no .signatures.json");
  });

  it("refuses a bundle signed with another key, naming the key", async () => {
    const signed = await signBundle(unsigned, parseSigningKey(other.privatePem));
    const err = await refusal(createBundleVerifier(parseVerificationKey(rsa.publicPem)), signed);
    expect(err.code).toBe("BUNDLE_SIGNATURE_INVALID");
    expect(err.message).toMatch(
      /RS256 signature does not verify with the configured RSA 2048-bit public key/,
    );
  });

  it("refuses an algorithm the key cannot verify (no HS256 with an RSA public key)", async () => {
    const hs = await signBundle(unsigned, parseSigningKey(secret, "HS256"));
    const err = await refusal(createBundleVerifier(parseVerificationKey(rsa.publicPem)), hs);
    expect(err.code).toBe("BUNDLE_SIGNATURE_INVALID");
    expect(err.message).toMatch(
      /signed with HS256, which the configured RSA 2048-bit public key cannot verify/,
    );
  });

  it("names a file changed after signing, a file added and a file removed", async () => {
    const verify = createBundleVerifier(parseVerificationKey(rsa.publicPem));
    const signed = await signBundle(unsigned, parseSigningKey(rsa.privatePem));
    const data = JSON.parse((await readTarGz(signed)).get("data.json")!.toString("utf8"));
    data.reference.regions["eu-west"].name = "EU West (tampered)";

    const tampered = await refusal(
      verify,
      await withFile(signed, "data.json", Buffer.from(JSON.stringify(data))),
    );
    expect(tampered.code).toBe("BUNDLE_SIGNATURE_INVALID");
    expect(tampered.message).toMatch(
      /^digest mismatch: data\.json \(signed [0-9a-f]{12}…, content [0-9a-f]{12}…/,
    );

    const wasm = await refusal(verify, await withFile(signed, "policy.wasm", Buffer.from("not wasm")));
    expect(wasm.message).toContain("digest mismatch: policy.wasm");

    const extra = await refusal(verify, await withFile(signed, "extra.json", Buffer.from("{}")));
    expect(extra.message).toBe("not covered by the signature: extra.json");

    const missing = await refusal(verify, await withFile(signed, "rego/residency/gates/gates.rego", null));
    expect(missing.message).toBe("signed but missing from the bundle: rego/residency/gates/gates.rego");

    // Re-indenting data.json is not tampering: OPA hashes its canonical form.
    const reformatted = await withFile(
      signed,
      "data.json",
      Buffer.from(
        JSON.stringify(JSON.parse((await readTarGz(signed)).get("data.json")!.toString("utf8")), null, 4),
      ),
    );
    await verify(await readTarGz(reformatted));
  });

  it("refuses malformed .signatures.json, several JWTs and a foreign scope", async () => {
    const verify = createBundleVerifier(parseVerificationKey(rsa.publicPem));
    const files = await readTarGz(await signBundle(unsigned, parseSigningKey(rsa.privatePem)));
    const token = (JSON.parse(files.get(SIGNATURES_FILE)!.toString()) as { signatures: string[] })
      .signatures[0]!;
    const variant = (content: string) =>
      writeTarGz(new Map([...files, [SIGNATURES_FILE, Buffer.from(content)]]));
    expect((await refusal(verify, await variant("{not json"))).message).toBe(".signatures.json is not JSON");
    expect((await refusal(verify, await variant('{"signatures": []}'))).code).toBe("BUNDLE_UNSIGNED");
    expect(
      (await refusal(verify, await variant(JSON.stringify({ signatures: [token, token] })))).message,
    ).toContain("several JWTs");
    const scoped = await signBundle(unsigned, parseSigningKey(rsa.privatePem), {
      claims: { scope: "other" },
    });
    expect((await refusal(verify, scoped)).message).toBe(
      'signature scope "other" does not match the expected scope ""',
    );
  });

  it("never guesses a key: a secret only with its algorithm named, PEM public keys only", () => {
    // A certificate printed as text (no "-----BEGIN") is not silently used as an HMAC secret.
    const bareCertificate = rsa.publicPem
      .split("\n")
      .filter((l) => l && !l.startsWith("-----"))
      .join("");
    expect(() => parseVerificationKey(bareCertificate)).toThrow(
      /not a PEM public key or certificate \(no "-----BEGIN" line\); to use it as an HMAC secret name the algorithm: BUNDLE_VERIFICATION_ALG=HS256/,
    );
    expect(parseVerificationKey(secret, "HS256")).toMatchObject({ kind: "secret", algorithms: ["HS256"] });
    expect(() => parseVerificationKey(secret, "RS256")).toThrow(/RS256 needs a PEM public key/);
    expect(() => parseVerificationKey(rsa.publicPem, "HS256")).toThrow(
      /HS256 cannot be used with a RSA 2048-bit public key/,
    );
    expect(parseVerificationKey(rsa.publicPem, "PS256").algorithms).toEqual(["PS256"]);
    expect(() => parseVerificationKey(rsa.privatePem)).toThrow(/holds a private key/);
    // Signing follows the same rule.
    expect(() => parseSigningKey(secret)).toThrow(/name the algorithm: --alg HS256/);
    expect(parseSigningKey(secret, "HS512").algorithms).toEqual(["HS512"]);
  });

  it("parses keys with clear errors: short HMAC secrets and broken PEM are refused", () => {
    expect(() => parseVerificationKey("short", "HS256")).toThrow(/at least 32 bytes/);
    expect(() => parseVerificationKey("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----")).toThrow(
      /not a usable PEM public key/,
    );
    // A PEM squeezed into one environment line with literal \n still parses.
    expect(parseVerificationKey(rsa.publicPem.replaceAll("\n", "\\n")).algorithms).toContain("RS256");
  });

  describe("interoperability with the opa binary", () => {
    it("a bundle signed by `opa build --signing-key` verifies here (RS256 and ES256)", async () => {
      for (const [pair, alg] of [
        [rsa, "RS256"],
        [ec, "ES256"],
      ] as const) {
        const keyFile = join(work, `opa-${alg}.pem`);
        writeFileSync(keyFile, pair.privatePem);
        const out = join(work, `opa-${alg}.tar.gz`);
        execFileSync(
          opaBinary(),
          [
            "build",
            "-b",
            "-t",
            "wasm",
            "-e",
            "residency/decision",
            "-e",
            "residency/validate",
            "-e",
            "inference/route",
            "--capabilities",
            "mk/opa-wasm-capabilities.json",
            "--revision",
            `rev-opa-${alg}`,
            "--ignore",
            "*_test.rego",
            "--signing-key",
            keyFile,
            "--signing-alg",
            alg,
            "-o",
            out,
            "rego",
          ],
          { stdio: ["ignore", "ignore", "pipe"] },
        );
        const bytes = readFileSync(out);
        await createBundleVerifier(parseVerificationKey(pair.publicPem))(await readTarGz(bytes));
        const wrong = await refusal(createBundleVerifier(parseVerificationKey(other.publicPem)), bytes);
        expect(wrong.code).toBe("BUNDLE_SIGNATURE_INVALID");
      }
    });

    it("a bundle signed here verifies with `opa build --verification-key`, and opa refuses it once tampered", async () => {
      const signed = await signBundle(unsigned, parseSigningKey(rsa.privatePem));
      const publicFile = join(work, "public.pem");
      writeFileSync(publicFile, rsa.publicPem);
      const verifyWithOpa = (bytes: Buffer) => {
        const file = join(work, "candidate.tar.gz");
        writeFileSync(file, bytes);
        return execFileSync(
          opaBinary(),
          ["build", "-b", "--verification-key", publicFile, file, "-o", join(work, "verified.tar.gz")],
          { stdio: ["ignore", "pipe", "pipe"] },
        );
      };
      expect(() => verifyWithOpa(signed)).not.toThrow();
      const data = JSON.parse((await readTarGz(signed)).get("data.json")!.toString("utf8"));
      data.reference.regions["eu-west"].name = "EU West (tampered)";
      let opaError = "";
      try {
        verifyWithOpa(await withFile(signed, "data.json", Buffer.from(JSON.stringify(data))));
      } catch (err) {
        const e = err as { stdout?: Buffer; stderr?: Buffer };
        opaError = `${e.stdout ?? ""}${e.stderr ?? ""}`; // opa prints its errors on stdout
      }
      expect(opaError).toMatch(/data\.json: digest mismatch/);
    });
  });
});
