import { describe, expect, it } from "vitest";

import { loadConfig } from "./config.js";
import { startupBanner } from "./startup-banner.js";

const KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

describe("startupBanner", () => {
  it("says where the API, its docs and the metrics are, and the development key when it is the default", () => {
    const { config } = loadConfig([], {
      DATABASE_URL: "sqlite://:memory:",
      SECRETS_ENCRYPTION_KEY: KEY,
    });
    const lines = startupBanner(config, { api: "http://0.0.0.0:8000", hasDashboard: false });
    expect(lines).toEqual([
      "Exosphere state manager (development, sqlite) listening",
      "API:       http://localhost:8000/v0/...",
      "API docs:  http://localhost:8000/docs",
      "Metrics:   http://localhost:8000/metrics (with the key)",
      expect.stringMatching(/^API key: {3}exosphere@123 \(the development default/),
    ]);
  });

  it("names the dashboard when one is served, the key-less metrics port, and never a configured key", () => {
    const { config } = loadConfig([], {
      DATABASE_URL: "sqlite://:memory:",
      SECRETS_ENCRYPTION_KEY: KEY,
      STATE_MANAGER_SECRET: "my-real-key",
    });
    const lines = startupBanner(config, {
      api: "http://127.0.0.1:9000",
      hasDashboard: true,
      metrics: "http://127.0.0.1:9100",
    });
    expect(lines).toContain("Dashboard: http://127.0.0.1:9000/");
    expect(lines).toContain(
      "Metrics:   http://127.0.0.1:9000/metrics (with the key), http://127.0.0.1:9100/metrics (no key)",
    );
    expect(lines.join("\n")).not.toContain("my-real-key");
    expect(lines.join("\n")).not.toContain("API key");
  });
});
