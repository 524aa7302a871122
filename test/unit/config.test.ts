import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.ts";

describe("configuration (SPEC §9)", () => {
  it("embedded defaults with an empty environment", () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      PORT: 8080,
      HOST: "127.0.0.1",
      RESIDENCY_DATA_DIR: "./data",
      OVERRIDE_MAX_HOURS: 24,
      HTTP_REQUEST_TIMEOUT_MS: 30_000,
      HTTP_HEADERS_TIMEOUT_MS: 10_000,
    });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.REDIS_URL).toBeUndefined();
  });

  it.each([
    [{ PORT: "eighty" }, "PORT"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ REDIS_URL: "http://x" }, "REDIS_URL"],
    [{ OVERRIDE_MAX_HOURS: "100" }, "OVERRIDE_MAX_HOURS"],
    [{ OVERRIDE_REQUIRED_APPROVALS: "0" }, "OVERRIDE_REQUIRED_APPROVALS"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ RESIDENCY_BOOTSTRAP_ADMIN_KEY: "short" }, "RESIDENCY_BOOTSTRAP_ADMIN_KEY"],
    [{ OVERRIDE_WEBHOOK_URL: "https://hooks.example/x" }, "OVERRIDE_WEBHOOK_SECRET"],
    [{ OVERRIDE_MAX_HOURS: "0.001" }, "OVERRIDE_MAX_HOURS"],
    [{ HTTP_REQUEST_TIMEOUT_MS: "10" }, "HTTP_REQUEST_TIMEOUT_MS"],
    [{ HTTP_REQUEST_TIMEOUT_MS: "5000", HTTP_HEADERS_TIMEOUT_MS: "6000" }, "HTTP_HEADERS_TIMEOUT_MS"],
  ])("%o stops start-up naming %s", (env, variable) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    try {
      parseConfig(env);
    } catch (err) {
      expect((err as ConfigError).variable).toBe(variable);
      expect((err as Error).message.startsWith(`${variable}:`)).toBe(true);
    }
  });

  describe("bundle verification keys are never guessed", () => {
    const publicPem = generateKeyPairSync("ec", { namedCurve: "P-256" })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
    const secret = "a-shared-hmac-secret-of-at-least-32-bytes";
    // A public key (or certificate) pasted without its PEM armour: public text, never a secret.
    const bare = publicPem
      .split("\n")
      .filter((l) => l && !l.startsWith("-----"))
      .join("");

    it.each([
      [{ BUNDLE_VERIFICATION_KEY: bare }, "BUNDLE_VERIFICATION_KEY", /BUNDLE_VERIFICATION_ALG=HS256/],
      [{ BUNDLE_VERIFICATION_KEY: secret }, "BUNDLE_VERIFICATION_KEY", /no "-----BEGIN" line/],
      [
        { BUNDLE_VERIFICATION_KEY: secret, BUNDLE_VERIFICATION_ALG: "ES256" },
        "BUNDLE_VERIFICATION_KEY",
        /needs a PEM/,
      ],
      [
        { BUNDLE_VERIFICATION_KEY: publicPem, BUNDLE_VERIFICATION_ALG: "HS256" },
        "BUNDLE_VERIFICATION_KEY",
        /cannot be used/,
      ],
      [{ BUNDLE_VERIFICATION_ALG: "HS256" }, "BUNDLE_VERIFICATION_ALG", /BUNDLE_VERIFICATION_KEY is not/],
      [{ BUNDLE_VERIFICATION_KEY: secret, BUNDLE_VERIFICATION_ALG: "hs256" }, "BUNDLE_VERIFICATION_ALG", /./],
    ])("%#: stops start-up with one line naming %s", (env, variable, message) => {
      let error: unknown;
      try {
        parseConfig(env);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe(variable);
      expect((error as Error).message).toMatch(new RegExp(`^${variable}: `));
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain("\n");
    });

    it("accepts a PEM public key, and a secret with its algorithm named", () => {
      expect(parseConfig({ BUNDLE_VERIFICATION_KEY: publicPem }).BUNDLE_VERIFICATION_KEY).toBe(publicPem);
      expect(
        parseConfig({ BUNDLE_VERIFICATION_KEY: secret, BUNDLE_VERIFICATION_ALG: "HS256" })
          .BUNDLE_VERIFICATION_ALG,
      ).toBe("HS256");
    });
  });

  it("WORKERS: one by default, auto = one per core, several only with the shared stores", () => {
    expect(parseConfig({}).WORKERS).toBe(1);
    const shared = { DATABASE_URL: "postgres://h/db", REDIS_URL: "redis://h:6379" };
    expect(parseConfig({ ...shared, WORKERS: "auto" }).WORKERS).toBeGreaterThanOrEqual(1);
    expect(parseConfig({ ...shared, WORKERS: "4" }).WORKERS).toBe(4);
    expect(() => parseConfig({ WORKERS: "2" })).toThrow(
      /WORKERS: more than one worker needs DATABASE_URL and REDIS_URL/,
    );
    expect(() => parseConfig({ DATABASE_URL: shared.DATABASE_URL, WORKERS: "2" })).toThrow(ConfigError);
    expect(() => parseConfig({ ...shared, WORKERS: "0" })).toThrow(/WORKERS/);
  });

  it("blank values count as unset", () => {
    expect(parseConfig({ DATABASE_URL: "", PORT: "" }).PORT).toBe(8080);
  });
});
