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
  ])("%o stops start-up naming %s", (env, variable) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    try {
      parseConfig(env);
    } catch (err) {
      expect((err as ConfigError).variable).toBe(variable);
      expect((err as Error).message.startsWith(`${variable}:`)).toBe(true);
    }
  });

  it("blank values count as unset", () => {
    expect(parseConfig({ DATABASE_URL: "", PORT: "" }).PORT).toBe(8080);
  });
});
