import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { ConfigError, loadConfig, parseDatabaseUrl } from "./config.js";

const KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

describe("loadConfig", () => {
  it("defaults to SQLite in ./.exosphere under the working directory, development mode", () => {
    const cwd = mkdtempSync(join(tmpdir(), "exo-cfg-"));
    const { config, warnings } = loadConfig([], {}, cwd);
    expect(config.mode).toBe("development");
    expect(config.database).toEqual({
      kind: "sqlite",
      path: join(cwd, ".exosphere/exosphere.db"),
      url: `sqlite://${join(cwd, ".exosphere/exosphere.db")}`,
    });
    expect(config.apiKey).toBe("exosphere@123");
    expect(warnings).toHaveLength(2);
    expect(config.port).toBe(8000);
    expect(config.host).toBe("0.0.0.0");
  });

  it("reports every production problem at once, naming each variable", () => {
    const error = (() => {
      try {
        loadConfig(
          ["--mode", "production"],
          { SECRETS_ENCRYPTION_KEY: "short", PORT: "99999" },
          "/tmp",
        );
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error("expected a ConfigError");
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems.join("\n")).toMatch(/STATE_MANAGER_SECRET/);
    expect(error.problems.join("\n")).toMatch(/SECRETS_ENCRYPTION_KEY is malformed/);
    expect(error.problems.join("\n")).toMatch(/PORT must be an integer from 0 to 65535/);
  });

  it("selects MongoDB from MONGO_URI and MONGO_DATABASE_NAME, or from DATABASE_URL=mongodb://", () => {
    const env = { SECRETS_ENCRYPTION_KEY: KEY };
    expect(
      loadConfig(
        [],
        { ...env, MONGO_URI: "mongodb://h:27017/?replicaSet=rs0", MONGO_DATABASE_NAME: "exo" },
        "/tmp",
      ).config.database,
    ).toEqual({ kind: "mongo", url: "mongodb://h:27017/?replicaSet=rs0", databaseName: "exo" });
    expect(
      loadConfig(
        [],
        { ...env, DATABASE_URL: "mongodb+srv://u:p@cluster0.x.net/prod?retryWrites=true" },
        "/tmp",
      ).config.database,
    ).toEqual({
      kind: "mongo",
      url: "mongodb+srv://u:p@cluster0.x.net/prod?retryWrites=true",
      databaseName: "prod",
    });
    expect(
      loadConfig([], { ...env, MONGO_URI: "mongodb://h" }, "/tmp").config.database,
    ).toMatchObject({
      databaseName: "exosphere",
    });
  });

  it("keeps the default SQLite file in DATA_DIR, which MONGO_URI overrides (the image sets DATA_DIR=/data)", () => {
    const env = { SECRETS_ENCRYPTION_KEY: KEY, DATA_DIR: "/data" };
    expect(loadConfig([], env, "/app").config.database).toEqual({
      kind: "sqlite",
      path: "/data/exosphere.db",
      url: "sqlite:///data/exosphere.db",
    });
    expect(loadConfig([], { ...env, MONGO_URI: "mongodb://h" }, "/app").config.database.kind).toBe(
      "mongo",
    );
  });

  it("refuses a MONGO_URI that is not a MongoDB URL, without printing its password", () => {
    expect(() => loadConfig([], { MONGO_URI: "postgres://u:hunter2@h/db" }, "/tmp")).toThrow(
      /MONGO_URI must start with mongodb:\/\/ or mongodb\+srv:\/\/.*postgres:\/\/u:\*\*\*@h\/db/,
    );
    expect(() => loadConfig([], { MONGO_URI: "postgres://u:hunter2@h/db" }, "/tmp")).not.toThrow(
      /hunter2/,
    );
  });

  it("reads the database from the URI after the hosts, whatever the password holds", () => {
    expect(parseDatabaseUrl("mongodb://u:p/w@ss@h:1,h2:2/prod?replicaSet=rs0", "/tmp")).toEqual({
      kind: "mongo",
      url: "mongodb://u:p/w@ss@h:1,h2:2/prod?replicaSet=rs0",
      databaseName: "prod",
    });
  });

  it("refuses DATABASE_URL and MONGO_URI together, naming both", () => {
    expect(() =>
      loadConfig([], { DATABASE_URL: "sqlite://x.db", MONGO_URI: "mongodb://x" }, "/tmp"),
    ).toThrow(/DATABASE_URL and MONGO_URI are both set/);
  });

  it("accepts Python-style log levels and flags in --flag=value form", () => {
    const { config } = loadConfig(
      ["--mode=production", "--port=9001"],
      { STATE_MANAGER_SECRET: "s", SECRETS_ENCRYPTION_KEY: KEY, LOG_LEVEL: "WARNING" },
      "/tmp",
    );
    expect(config).toMatchObject({ mode: "production", port: 9001, logLevel: "warn" });
  });
});

describe("parseDatabaseUrl", () => {
  it("understands absolute, relative and in-memory SQLite URLs and PostgreSQL URLs", () => {
    expect(parseDatabaseUrl("sqlite:///var/lib/x.db", "/srv")).toMatchObject({
      path: "/var/lib/x.db",
    });
    expect(parseDatabaseUrl("sqlite://data/x.db", "/srv")).toMatchObject({
      path: "/srv/data/x.db",
    });
    expect(parseDatabaseUrl("sqlite://:memory:", "/srv")).toMatchObject({ path: ":memory:" });
    expect(parseDatabaseUrl("postgresql://u:p@h/db", "/srv")).toEqual({
      kind: "postgres",
      url: "postgresql://u:p@h/db",
    });
    expect(() => parseDatabaseUrl("mysql://h/db", "/srv")).toThrow(/must start with sqlite:\/\//);
  });

  it("reads the operations settings: LOG_FORMAT by mode, METRICS_PORT, CRON_TICK_MS", () => {
    const dev = loadConfig([], { DATABASE_URL: "sqlite://:memory:", SECRETS_ENCRYPTION_KEY: KEY });
    expect(dev.config.logFormat).toBe("pretty");
    expect(dev.config.metricsPort).toBeNull();
    expect(dev.config.cronTickMs).toBe(1000);
    const prod = loadConfig([], {
      NODE_ENV: "production",
      DATABASE_URL: "sqlite://:memory:",
      SECRETS_ENCRYPTION_KEY: KEY,
      STATE_MANAGER_SECRET: "k",
      METRICS_PORT: "9100",
      CRON_TICK_MS: "250",
    });
    expect(prod.config.logFormat).toBe("json");
    expect(prod.config.metricsPort).toBe(9100);
    expect(prod.config.cronTickMs).toBe(250);
    expect(
      loadConfig([], {
        DATABASE_URL: "sqlite://:memory:",
        SECRETS_ENCRYPTION_KEY: KEY,
        LOG_FORMAT: "JSON",
      }).config.logFormat,
    ).toBe("json");
    const problems = (() => {
      try {
        loadConfig([], {
          DATABASE_URL: "sqlite://:memory:",
          SECRETS_ENCRYPTION_KEY: KEY,
          LOG_FORMAT: "xml",
          METRICS_PORT: "70000",
          CRON_TICK_MS: "0",
        });
      } catch (err) {
        return (err as ConfigError).problems.join("\n");
      }
      throw new Error("expected a ConfigError");
    })();
    expect(problems).toMatch(/LOG_FORMAT/);
    expect(problems).toMatch(/METRICS_PORT/);
    expect(problems).toMatch(/CRON_TICK_MS/);
  });
});
