/**
 * The built dashboard in headless Chromium (Debian's /usr/bin/chromium through playwright-core;
 * never a downloaded browser) against a real state manager on SQLite, with real workflows run
 * by the SDK runtime. Asserts what a user sees; any console error fails the suite. Screenshots
 * of each screen go to docs/images/, and the 10,000-wide run page's load time is printed
 * (measured, not asserted; see docs/benchmarks.md).
 */
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { startStateManager, type TestStateManager } from "@exosphere/test-utils";
import { Runtime, silentLogger, StateManager } from "exospherehost";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  echoGraph,
  FANOUT_WIDTH,
  fanoutGraph,
  flaky,
  flakyGraph,
  gatedGraph,
  NODES,
  openGate,
} from "./workflows";

const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const SHOTS = fileURLToPath(new URL("../../../docs/images/", import.meta.url));
const DIST = fileURLToPath(new URL("../dist/index.html", import.meta.url));
const NS = `e2e-${Date.now().toString(36)}`;

let server: TestStateManager;
let runtime: Runtime;
let running: Promise<void>;
let sm: StateManager;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
/** The one 401 expected: the page asking whether it has a session before signing in. */
let isSignedIn = false;

/** Forget the browser's own log lines of requests a step made fail on purpose. */
function dropExpected(pattern: RegExp): void {
  for (let i = consoleErrors.length - 1; i >= 0; i--) {
    if (pattern.test(consoleErrors[i] ?? "")) consoleErrors.splice(i, 1);
  }
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}dashboard-${name}.png` });
}

/** A run's page, and its status badge once it says `status`. */
async function expectRunStatus(status: string, timeout = 30_000): Promise<void> {
  await page
    .locator(".run-meta .badge", { hasText: new RegExp(`^${status}$`) })
    .first()
    .waitFor({ timeout });
}

beforeAll(async () => {
  if (!existsSync(DIST)) throw new Error("the dashboard is not built: run `npm run build` first");
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
  }
  mkdirSync(SHOTS, { recursive: true });
  server = await startStateManager({ env: { MODE: "development" } });
  sm = new StateManager({
    namespace: NS,
    stateManagerUri: server.url,
    key: server.apiKey,
    logger: silentLogger,
  });
  runtime = new Runtime({
    namespace: NS,
    name: "e2e-runtime",
    nodes: NODES,
    stateManagerUri: server.url,
    key: server.apiKey,
    workers: 8,
    batchSize: 100,
    handleSignals: false,
    logger: silentLogger,
  });
  running = runtime.start();
  running.catch(() => undefined);
  await runtime.waitUntilReady();
  await sm.upsertGraph("fanout", { nodes: fanoutGraph(NS), secrets: {} });
  await sm.upsertGraph("flaky", {
    nodes: flakyGraph(NS),
    secrets: {},
    retryPolicy: { max_retries: 0 },
  });
  await sm.upsertGraph("gated", {
    nodes: gatedGraph(NS),
    secrets: {},
    storeConfig: { required_keys: ["gate"] },
  });
  await sm.upsertGraph("hello", { nodes: echoGraph(NS), secrets: {} });

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    colorScheme: "light",
  });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const text = message.text();
    if (!isSignedIn && /status of 401/.test(text)) return;
    consoleErrors.push(text);
  });
  page.on("pageerror", (err) => consoleErrors.push(`pageerror: ${err.message}`));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
  await running;
  await server?.stop();
});

describe("the dashboard", () => {
  it("signs in with the API key (the development hint is not shown for another key)", async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole("heading", { name: "Exosphere" }).waitFor();
    expect(await page.getByText("Development mode").count()).toBe(0);
    await page.getByLabel("API key").fill("wrong key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").getByText("Invalid API key").waitFor();
    await page.getByLabel("API key").fill(server.apiKey);
    await shot("sign-in");
    isSignedIn = true;
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Namespaces" }).waitFor();
    await page.getByRole("link", { name: NS }).waitFor();
    await shot("namespaces");
  });

  it("shows a run progress live to SUCCESS without a reload", async () => {
    const { run_id } = await sm.trigger("gated", { store: { gate: "live" } });
    await page.getByRole("link", { name: NS }).click();
    await page.getByRole("heading", { name: NS }).waitFor();
    await page.getByRole("link", { name: "gated" }).first().waitFor();
    await shot("namespace");
    await page.getByRole("link", { name: "Runs", exact: true }).click();
    await page.locator(`tr[data-run-id="${run_id}"]`).waitFor();
    await shot("runs");
    await page.locator(`tr[data-run-id="${run_id}"] a`).first().click();
    await expectRunStatus("RUNNING");
    const marker = await page.evaluate(
      () => ((window as unknown as { marker: number }).marker = 42),
    );
    openGate("live");
    await expectRunStatus("SUCCESS");
    await page.locator('.step[data-identifier="after"]').getByText("1 ✓").waitFor();
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(
      marker,
    );
  });

  it(`draws a ${FANOUT_WIDTH.toLocaleString("en-US")}-wide fan-out as one node and pages its states`, async () => {
    const { run_id } = await sm.trigger("fanout");
    const result = await sm.waitForRun(run_id, { timeoutMs: 90_000 });
    expect(result.status).toBe("SUCCESS");
    const started = Date.now();
    await page.goto(`${server.url}/ns/${NS}/runs/${run_id}`);
    const work = page.locator('.step[data-identifier="work"]');
    await work.getByText(`${FANOUT_WIDTH.toLocaleString("en-US")} ✓`).waitFor();
    const loadMs = Date.now() - started;
    console.log(`[measure] ${FANOUT_WIDTH}-wide run page: DAG with counts after ${loadMs} ms`);
    expect(await page.locator(".react-flow__node").count()).toBe(3);
    await work.getByRole("button").click();
    await page.getByRole("heading", { name: /States of/ }).waitFor();
    // The heading shows before the first page of states has arrived.
    await page.locator("table.states tbody tr").nth(24).waitFor();
    expect(await page.locator("table.states tbody tr").count()).toBe(25);
    await page.getByRole("button", { name: "Next" }).click();
    await page.locator("table.states tbody tr").first().waitFor();
    await page.locator("table.states tbody tr button").first().click();
    await page.getByRole("heading", { name: "Outputs" }).waitFor();
    await shot("run-fanout");
  });

  it("measures the fan-out page while its events stream", async () => {
    const { run_id } = await sm.trigger("fanout");
    const started = Date.now();
    await page.goto(`${server.url}/ns/${NS}/runs/${run_id}`);
    await page.locator('.step[data-identifier="work"]').waitFor();
    const shownMs = Date.now() - started;
    // Responsiveness while thousands of state events arrive: the delay of one task on the page's
    // main thread, sampled for a few seconds.
    const lags = await page.evaluate(async () => {
      const out: number[] = [];
      for (let i = 0; i < 40; i++) {
        const t = performance.now();
        await new Promise((resolve) => setTimeout(resolve, 50));
        out.push(performance.now() - t - 50);
      }
      return out;
    });
    await expectRunStatus("SUCCESS", 90_000);
    await page
      .locator('.step[data-identifier="work"]')
      .getByText(`${FANOUT_WIDTH.toLocaleString("en-US")} ✓`)
      .waitFor();
    lags.sort((a, b) => a - b);
    console.log(
      `[measure] ${FANOUT_WIDTH}-wide run page while running: DAG after ${shownMs} ms; main-thread lag p50 ${lags[20]?.toFixed(1)} ms, max ${lags[lags.length - 1]?.toFixed(1)} ms`,
    );
  });

  it("cancels a run after confirming", async () => {
    const { run_id } = await sm.trigger("gated", { store: { gate: "never" } });
    await page.goto(`${server.url}/ns/${NS}/runs/${run_id}`);
    await expectRunStatus("RUNNING");
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.getByRole("dialog").getByText("Every state not yet final").waitFor();
    await shot("cancel-confirm");
    await page.getByRole("dialog").getByRole("button", { name: "Cancel run" }).click();
    await expectRunStatus("CANCELLED");
    await page
      .getByRole("status")
      .getByText(/Cancelled the run/)
      .waitFor();
    // A second cancel is refused by the server: the button is disabled for a finished run.
    expect(await page.getByRole("button", { name: "Cancel run" }).isDisabled()).toBe(true);
  });

  it("retries what failed", async () => {
    flaky.failing = true;
    const { run_id } = await sm.trigger("flaky");
    await page.goto(`${server.url}/ns/${NS}/runs/${run_id}`);
    await expectRunStatus("FAILED");
    await page.locator('.step[data-identifier="bad"]').getByText("1 ✗").waitFor();
    await page.locator('.step[data-identifier="bad"]').getByRole("button").click();
    await page.locator("table.states tbody tr button").first().click();
    await page
      .locator(".state-panel .error-text", { hasText: "cannot handle bad echo: go" })
      .waitFor();
    await shot("run-failed");
    flaky.failing = false;
    await page.getByRole("button", { name: "Retry failed" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Retry failed" }).click();
    await page.getByRole("status").getByText("Retried 1 state.").waitFor();
    await expectRunStatus("SUCCESS");
  });

  it("re-runs one state, and shows the server's detail when an action fails", async () => {
    const { run_id } = await sm.trigger("hello");
    await sm.waitForRun(run_id);
    await page.goto(`${server.url}/ns/${NS}/runs/${run_id}`);
    await expectRunStatus("SUCCESS");
    await page.locator('.step[data-identifier="echo"]').getByRole("button").click();
    await page.locator("table.states tbody tr button").first().click();
    await page.getByRole("button", { name: "Re-run from here" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Re-run from here" }).click();
    await page
      .getByRole("status")
      .getByText(/Created retry state/)
      .waitFor();
    await page.locator('.step[data-identifier="echo"]').getByText("1 ↻").waitFor();

    // Deleting a graph with an active run is refused: the dialog shows why, and stays open.
    const active = await sm.trigger("gated", { store: { gate: "held" } });
    await page.goto(`${server.url}/ns/${NS}/graphs/gated`);
    await page.getByRole("button", { name: "Delete graph" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete graph" }).click();
    await page
      .getByRole("dialog")
      .getByRole("alert")
      .getByText(/GRAPH_HAS_ACTIVE_RUNS/)
      .waitFor();
    await shot("action-error");
    dropExpected(/status of 409/); // the browser logs the refused request itself
    await page.keyboard.press("Escape");
    openGate("held");
    expect((await sm.waitForRun(active.run_id)).status).toBe("SUCCESS");
  });

  it("triggers a run from the form generated from the root node's inputs", async () => {
    await page.goto(`${server.url}/ns/${NS}/graphs/hello`);
    await page.getByRole("heading", { name: "hello" }).waitFor();
    await shot("graph");
    await page.getByRole("button", { name: "Trigger run" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("what to echo back").waitFor();
    await dialog.getByLabel("text").fill("from the form");
    await shot("trigger-form");
    await dialog.getByRole("button", { name: "Trigger run" }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    await expectRunStatus("SUCCESS");
    await page.locator('.step[data-identifier="echo"]').getByRole("button").click();
    await page.locator("table.states tbody tr button").first().click();
    await page.getByText('"echo: from the form"').waitFor();
  });

  it("compares two versions of a graph, then deletes it", async () => {
    await sm.upsertGraph("hello", {
      nodes: [{ ...echoGraph(NS)[0]!, inputs: { text: "hello again" } }],
      secrets: {},
    });
    await page.goto(`${server.url}/ns/${NS}/graphs/hello`);
    await page.getByRole("heading", { name: "hello" }).waitFor();
    const diff = page.getByLabel("Differences between the versions");
    await diff.locator(".diff-removed", { hasText: '"text": "hello"' }).waitFor();
    await diff.locator(".diff-added", { hasText: '"text": "hello again"' }).waitFor();

    await page.getByRole("button", { name: "Delete graph" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete graph" }).click();
    await page.waitForURL(new RegExp(`/ns/${NS}$`));
    await page.getByRole("link", { name: "fanout" }).waitFor();
    expect(await page.getByRole("link", { name: "hello", exact: true }).count()).toBe(0);
    await expect(sm.getGraph("hello")).rejects.toMatchObject({ status: 404 });
  });

  it("shows validation errors next to the offending node", async () => {
    await page.goto(`${server.url}/ns/${NS}`);
    await page.getByRole("button", { name: "New graph" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("broken");
    await dialog.getByLabel(/Template JSON/).fill(
      JSON.stringify({
        secrets: {},
        nodes: [
          {
            node_name: "Echo",
            namespace: NS,
            identifier: "first",
            inputs: { text: "x" },
            next_nodes: ["second"],
          },
          { node_name: "Missing", namespace: NS, identifier: "second", inputs: {} },
        ],
      }),
    );
    await dialog.getByRole("button", { name: "Save graph" }).click();
    await dialog
      .locator('.step[data-identifier="second"] .step-errors')
      .getByText(`Node Missing in namespace ${NS} does not exist.`)
      .waitFor();
    await dialog.getByText(/saved as a new INVALID version/).waitFor();
    await dialog.locator(".dag").scrollIntoViewIfNeeded();
    await shot("validation-error");
    await page.keyboard.press("Escape");
  });

  it("reloads a deep link on the same screen, in either theme", async () => {
    await page.goto(`${server.url}/ns/${NS}/nodes`);
    await page.getByRole("heading", { name: "Registered nodes" }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Registered nodes" }).waitFor();
    await page.getByRole("cell", { name: "Gated" }).waitFor();
    await shot("nodes");
    const runs = await sm.queryRuns({ graphName: "fanout", limit: 1 });
    const runUrl = `${server.url}/ns/${NS}/runs/${runs.runs[0]?.run_id}`;
    await page.goto(runUrl);
    await page.getByRole("button", { name: "Toggle dark mode" }).click();
    await page.reload();
    await page
      .locator('.step[data-identifier="work"]')
      .getByText(`${FANOUT_WIDTH.toLocaleString("en-US")} ✓`)
      .waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset["theme"])).toBe("dark");
    await shot("run-dark");
    await page.goto(`${server.url}/ns/${NS}/runs/not-a-run`);
    await page
      .getByRole("alert")
      .getByText(/RUN_NOT_FOUND|not found/i)
      .waitFor();
    dropExpected(/status of 404/); // the unknown run, logged by the browser
    await page.getByRole("button", { name: "Toggle dark mode" }).click();
  });

  it("signs out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    isSignedIn = false;
  });

  it("logged no console error", () => {
    expect(consoleErrors).toEqual([]);
  });
});
