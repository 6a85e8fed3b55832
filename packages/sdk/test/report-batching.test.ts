import {
  createServer,
  type IncomingMessage,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, type GraphNode } from "../src/index.js";
import { startInBackground, statusesOf, uniqueNamespace, useStateManager } from "./helpers.js";

// Batched reports against the real state manager: a burst of states finishes, every report lands
// exactly once, and a thin counting proxy in front of the server shows that they shared requests.

/** One request seen by the proxy. */
interface Seen {
  method: string;
  path: string;
  body: string;
}

/**
 * Forwards every request to `target` unchanged and records it. Closing the client side (the
 * runtime stopping a long-poll) closes the upstream request too.
 */
class CountingProxy {
  readonly seen: Seen[] = [];
  url = "";
  readonly #target: () => string;
  #server: Server | undefined;

  /** @param target - base URL of the server to forward to (read at each request). */
  constructor(target: () => string) {
    this.#target = target;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#forward(req, res));
    await new Promise<void>((resolve) => this.#server?.listen(0, "127.0.0.1", resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }

  async #forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    this.seen.push({
      method: req.method ?? "GET",
      path: req.url ?? "/",
      body: body.toString("utf8"),
    });
    const target = new URL(req.url ?? "/", this.#target());
    const upstream = httpRequest(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "application/json" });
      }
      res.end(JSON.stringify({ detail: "proxy: upstream failed" }));
    });
    res.on("close", () => upstream.destroy());
    upstream.end(body);
  }
}

const SplitIn = z.object({ count: z.string(), fail_every: z.string() });
const Chunk = z.object({ chunk: z.string() });

class Split extends BaseNode<typeof SplitIn, typeof Chunk> {
  static Inputs = SplitIn;
  static Outputs = Chunk;
  async execute() {
    const failEvery = Number(this.inputs.fail_every);
    return Array.from({ length: Number(this.inputs.count) }, (_, i) => ({
      chunk: failEvery > 0 && i % failEvery === 0 ? `fail-${i}` : `ok-${i}`,
    }));
  }
}

class Work extends BaseNode<typeof Chunk, typeof Chunk> {
  static Inputs = Chunk;
  static Outputs = Chunk;
  async execute() {
    if (this.inputs.chunk.startsWith("fail-")) {
      throw new Error(`chunk ${this.inputs.chunk} failed`);
    }
    return { chunk: this.inputs.chunk.toUpperCase() };
  }
}

function nodes(namespace: string): GraphNode[] {
  return [
    {
      node_name: "Split",
      namespace,
      identifier: "split",
      inputs: { count: "initial", fail_every: "initial" },
      next_nodes: ["work"],
    },
    {
      node_name: "Work",
      namespace,
      identifier: "work",
      inputs: { chunk: "${{ split.outputs.chunk }}" },
    },
  ];
}

const { server, runtime, client } = useStateManager();
const proxy = new CountingProxy(() => server().url);

beforeAll(async () => {
  await proxy.start();
});
afterAll(async () => {
  await proxy.stop();
});

describe("batched reports against the real state manager", () => {
  it("report a burst of states in fewer requests than states, each exactly once", async () => {
    const namespace = uniqueNamespace("batched");
    await startInBackground(
      runtime({
        namespace,
        name: "rt-batched",
        nodes: [Split, Work],
        workers: 8,
        batchSize: 16,
        stateManagerUri: proxy.url,
      }),
    );
    const sm = client(namespace);
    await sm.upsertGraph("g", {
      nodes: nodes(namespace),
      secrets: {},
      retryPolicy: { max_retries: 0 },
    });

    const ok = await sm.trigger("g", { inputs: { count: "40", fail_every: "0" } });
    const failing = await sm.trigger("g", { inputs: { count: "20", fail_every: "4" } });
    const okResult = await sm.waitForRun(ok.run_id, { timeoutMs: 30_000 });
    const failingResult = await sm.waitForRun(failing.run_id, { timeoutMs: 30_000 });

    expect(okResult.status).toBe("SUCCESS");
    expect(statusesOf(okResult.graph, "work")).toEqual(Array(40).fill("SUCCESS"));
    expect(failingResult.status).toBe("FAILED");
    expect(statusesOf(failingResult.graph, "work")).toEqual([
      ...Array(5).fill("ERRORED"),
      ...Array(15).fill("SUCCESS"),
    ]);

    const graphNodes = [...okResult.graph.nodes, ...failingResult.graph.nodes];
    const workIds = graphNodes.filter((s) => s.identifier === "work").map((s) => s.id);
    expect(workIds).toHaveLength(60);
    const batches = proxy.seen.filter((r) => r.path === `/v0/namespace/${namespace}/states/report`);
    const reported = batches
      .flatMap((r) => (JSON.parse(r.body) as { reports: { state_id: string }[] }).reports)
      .map((r) => r.state_id);
    // Every claimed state (two Split states, sixty Work states) was reported exactly once, all
    // through the batch endpoint. (Fan-out adds Split states that are never claimed.)
    expect(new Set(reported).size).toBe(reported.length);
    expect(reported).toHaveLength(62);
    expect(reported).toEqual(expect.arrayContaining(workIds));
    const known = new Set(graphNodes.map((s) => s.id));
    expect(reported.filter((id) => !known.has(id))).toEqual([]);
    expect(proxy.seen.filter((r) => /\/state\/[^/]+\/(executed|errored)$/.test(r.path))).toEqual(
      [],
    );
    // ... in fewer requests than states.
    expect(batches.length).toBeLessThan(reported.length);
    expect(batches.every((r) => r.method === "POST")).toBe(true);
  });
});
