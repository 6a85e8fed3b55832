import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ApiClient, startTestServer, type TestServer } from "./helpers/test-server.js";

// The dashboard's page and assets (src/http/plugins/dashboard.ts), from a stand-in build: served
// without a key at / and at the app's own routes, never in place of the API, the probes or the
// docs; a missing build leaves the server working.

const INDEX = `<!doctype html><html><head><meta name="exosphere-dev-key" content="" /></head><body><div id="root"></div><script type="module" src="/assets/app-1234.js"></script></body></html>`;

function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), "exo-dashboard-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), INDEX);
  writeFileSync(join(dir, "assets", "app-1234.js"), "console.log('dashboard');\n");
  return dir;
}

describe("dashboard: with a build", () => {
  let server: TestServer;
  let anonymous: ApiClient;
  const dir = fakeBuild();

  beforeAll(async () => {
    server = await startTestServer("sqlite", { env: { DASHBOARD_DIR: dir } });
    anonymous = new ApiClient(server.url, undefined);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    "/",
    "/ns/prod",
    "/ns/prod/runs",
    "/ns/prod/runs/9b2c-1",
    "/ns/a/graphs/g",
    "/ns/a/nodes/",
  ])("answers index.html at %s without a key", async (path) => {
    const res = await anonymous.get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.body).toContain('<div id="root">');
  });

  it("serves hashed assets without a key, cached for good", async () => {
    const res = await anonymous.get("/assets/app-1234.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    expect(res.headers.get("cache-control")).toContain("immutable");
  });

  it("answers the JSON 404 for an unknown asset, and an unknown path stays behind the key", async () => {
    const asset = await anonymous.get("/assets/missing.js");
    expect(asset.status).toBe(404);
    expect(asset.body).toMatchObject({ code: "NOT_FOUND" });
    for (const path of ["/nope", "/index.html"]) {
      expect((await anonymous.get(path)).status, path).toBe(401);
      const res = await server.api.get(path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).toMatchObject({ code: "NOT_FOUND" });
    }
  });

  it("never shadows the API, the probes or the docs", async () => {
    expect((await anonymous.get("/v0/namespaces")).status).toBe(401);
    expect((await anonymous.get("/v0/namespace/prod/runs")).body).toMatchObject({
      detail: "Invalid API key",
    });
    expect((await server.api.get("/v0/namespaces")).body).toMatchObject({ namespaces: [] });
    expect((await anonymous.get("/health")).body).toEqual({ message: "OK" });
    expect((await anonymous.get("/ready")).body).toMatchObject({ status: "ready" });
    expect((await anonymous.get("/openapi.json")).body).toMatchObject({ openapi: "3.1.0" });
    expect((await anonymous.get("/metrics")).status).toBe(401);
    const metrics = await server.api.get("/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain/);
    const docs = await anonymous.get("/docs/");
    expect(docs.status).toBe(200);
    expect(String(docs.body)).toContain("swagger");
  });

  it("leaves the dashboard routes out of the OpenAPI document", async () => {
    const { body } = await anonymous.get("/openapi.json");
    expect(Object.keys(body.paths)).not.toContain("/");
    expect(Object.keys(body.paths).some((path) => path.startsWith("/ns/"))).toBe(false);
  });

  it("pre-fills no key unless the server runs on the development key", async () => {
    const res = await anonymous.get("/");
    expect(res.body).toContain('<meta name="exosphere-dev-key" content="" />');
  });
});

describe("dashboard: in development on the development key", () => {
  let server: TestServer;
  const dir = fakeBuild();

  beforeAll(async () => {
    server = await startTestServer("sqlite", {
      env: { DASHBOARD_DIR: dir, STATE_MANAGER_SECRET: "exosphere@123", MODE: "development" },
    });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("hints the key on the sign-in page", async () => {
    const res = await new ApiClient(server.url, undefined).get("/ns/x/runs");
    expect(res.body).toContain('<meta name="exosphere-dev-key" content="exosphere@123" />');
  });
});

describe("dashboard: without a build", () => {
  let server: TestServer;
  const dir = mkdtempSync(join(tmpdir(), "exo-dashboard-missing-"));

  beforeAll(async () => {
    server = await startTestServer("sqlite", { env: { DASHBOARD_DIR: join(dir, "dist") } });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts, serves the API, and says at / how to build the dashboard", async () => {
    const anonymous = new ApiClient(server.url, undefined);
    const page = await anonymous.get("/");
    expect(page.status).toBe(503);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.body).toContain("npm run build");
    expect((await anonymous.get("/ns/x/runs")).body).toContain("npm run build");
    expect((await anonymous.get("/health")).status).toBe(200);
    expect((await server.api.get("/v0/namespaces")).status).toBe(200);
  });
});
