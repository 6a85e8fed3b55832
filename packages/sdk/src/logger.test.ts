import { afterEach, describe, expect, it, vi } from "vitest";

import { createConsoleLogger } from "./logger.js";

describe("createConsoleLogger", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it("writes at and above its level, with meta as JSON", () => {
    const info = vi.spyOn(console, "info").mockImplementation(() => undefined);
    const debug = vi.spyOn(console, "debug").mockImplementation(() => undefined);
    const logger = createConsoleLogger({ level: "info", silent: false });
    logger.debug("hidden");
    logger.info("shown", { stateId: "s1" });
    expect(debug).not.toHaveBeenCalled();
    expect(info).toHaveBeenCalledOnce();
    expect(info.mock.calls[0]?.[0]).toMatch(/ INFO exospherehost: shown \{"stateId":"s1"\}$/);
  });

  it("follows EXOSPHERE_LOG_LEVEL", () => {
    vi.stubEnv("EXOSPHERE_LOG_LEVEL", "error");
    vi.stubEnv("EXOSPHERE_DISABLE_DEFAULT_LOGGING", "");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const logger = createConsoleLogger();
    logger.warn("hidden");
    logger.error("shown");
    expect(warn).not.toHaveBeenCalled();
    expect(error).toHaveBeenCalledOnce();
  });

  it("is silenced by EXOSPHERE_DISABLE_DEFAULT_LOGGING", () => {
    vi.stubEnv("EXOSPHERE_DISABLE_DEFAULT_LOGGING", "1");
    const error = vi.spyOn(console, "error").mockImplementation(() => undefined);
    createConsoleLogger().error("nothing");
    expect(error).not.toHaveBeenCalled();
  });
});
