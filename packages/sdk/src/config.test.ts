import { describe, expect, it } from "vitest";

import { readLoggingConfig, resolveConnection, resolveSessionConnection } from "./config.js";

describe("resolveConnection", () => {
  it("prefers options over the environment and strips trailing slashes", () => {
    const env = { EXOSPHERE_STATE_MANAGER_URI: "http://env:8000", EXOSPHERE_API_KEY: "env-key" };
    expect(resolveConnection({ stateManagerUri: "http://opt:9000/", key: "opt-key" }, env)).toEqual(
      {
        uri: "http://opt:9000",
        key: "opt-key",
      },
    );
    expect(resolveConnection({}, env)).toEqual({ uri: "http://env:8000", key: "env-key" });
  });

  it("names the variable when the URI is missing", () => {
    expect(() => resolveConnection({}, { EXOSPHERE_API_KEY: "k" })).toThrow(
      /EXOSPHERE_STATE_MANAGER_URI/,
    );
  });

  it("names the variable when the key is missing or blank", () => {
    expect(() =>
      resolveConnection({ stateManagerUri: "http://x" }, { EXOSPHERE_API_KEY: "  " }),
    ).toThrow(/EXOSPHERE_API_KEY/);
  });

  it("reports a missing value as a MISSING_CONFIG ConfigurationError", () => {
    try {
      resolveConnection({}, {});
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ name: "ConfigurationError", code: "MISSING_CONFIG" });
    }
  });

  it("rejects a URI that is not http(s)", () => {
    expect(() => resolveConnection({ stateManagerUri: "localhost:8000", key: "k" }, {})).toThrow(
      /http or https/,
    );
    expect(() => resolveConnection({ stateManagerUri: "not a url", key: "k" }, {})).toThrow(
      /is not a URL/,
    );
  });
});

describe("readLoggingConfig", () => {
  it("defaults to info and enabled", () => {
    expect(readLoggingConfig({})).toEqual({ level: "info", disabled: false });
  });

  it.each([
    ["DEBUG", "debug"],
    ["warning", "warn"],
    ["WARN", "warn"],
    ["Error", "error"],
    ["nonsense", "info"],
  ])("maps EXOSPHERE_LOG_LEVEL=%s to %s", (raw, level) => {
    expect(readLoggingConfig({ EXOSPHERE_LOG_LEVEL: raw }).level).toBe(level);
  });

  it.each([
    ["1", true],
    ["true", true],
    ["yes", true],
    ["", false],
    ["0", false],
    ["false", false],
  ])("reads EXOSPHERE_DISABLE_DEFAULT_LOGGING=%j as %s", (raw, disabled) => {
    expect(readLoggingConfig({ EXOSPHERE_DISABLE_DEFAULT_LOGGING: raw }).disabled).toBe(disabled);
  });
});

describe("resolveSessionConnection", () => {
  it("needs only the URI and carries no key", () => {
    expect(resolveSessionConnection({ stateManagerUri: "http://opt:9000/" }, {})).toEqual({
      uri: "http://opt:9000",
      key: undefined,
    });
  });

  it("still refuses a missing or malformed URI", () => {
    expect(() => resolveSessionConnection({}, {})).toThrow(/EXOSPHERE_STATE_MANAGER_URI/);
    expect(() => resolveSessionConnection({ stateManagerUri: "ftp://x" }, {})).toThrow(/http/);
  });
});
