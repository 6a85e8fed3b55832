import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { BaseNode } from "exospherehost";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { uniqueNamespace, useCliServer } from "./helpers.js";

// graph apply / get / list / delete against the real state manager.

class Fetch extends BaseNode.define({
  inputs: z.object({ url: z.string() }),
  outputs: z.object({ body: z.string() }),
}) {
  async execute() {
    return { body: this.inputs.url };
  }
}

class Store extends BaseNode.define({
  inputs: z.object({ body: z.string() }),
  outputs: z.object({ id: z.string() }),
}) {
  async execute() {
    return { id: "1" };
  }
}

const dir = mkdtempSync(join(tmpdir(), "exosphere-cli-graph-"));

function writeGraph(name: string, graph: unknown): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(graph, null, 2));
  return path;
}

interface GraphFile {
  name?: string;
  secrets: Record<string, string>;
  nodes: Record<string, unknown>[];
  [field: string]: unknown;
}

function pipeline(namespace: string, extra: Record<string, unknown> = {}): GraphFile {
  return {
    name: "pipeline",
    secrets: {},
    nodes: [
      {
        node_name: "Fetch",
        namespace,
        identifier: "fetch",
        inputs: { url: "initial" },
        next_nodes: ["save"],
      },
      {
        node_name: "Store",
        namespace,
        identifier: "save",
        inputs: { body: "${{ fetch.outputs.body }}" },
      },
    ],
    retry_policy: { max_retries: 2, strategy: "FIXED", backoff_factor: 500 },
    ...extra,
  };
}

describe("graph commands", () => {
  const { cli, client, startRuntime } = useCliServer();

  describe("graph apply", () => {
    it("creates a graph, then a new version of it", async () => {
      const namespace = uniqueNamespace("apply");
      await startRuntime(namespace, [Fetch, Store]);
      const file = writeGraph(`apply-${namespace}`, pipeline(namespace));

      const first = await cli(["graph", "apply", "-f", file, "-n", namespace]);
      expect(first).toMatchObject({
        code: 0,
        stdout: 'Graph "pipeline" applied: version 1, VALID (2 nodes).\n',
      });
      const second = await cli(["graph", "apply", "-f", file, "-n", namespace, "--json"]);
      expect(second.code).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({ version: 2, validation_status: "VALID" });
      expect((await client(namespace).getGraph("pipeline")).retry_policy).toMatchObject({
        max_retries: 2,
        strategy: "FIXED",
      });
    });

    it("reads the graph from standard input with -f - and takes --name", async () => {
      const namespace = uniqueNamespace("apply-stdin");
      await startRuntime(namespace, [Fetch, Store]);
      const { name: _name, ...graph } = pipeline(namespace);
      const result = await cli(
        ["graph", "apply", "-f", "-", "--name", "from-stdin", "-n", namespace],
        {
          input: JSON.stringify(graph),
        },
      );
      expect(result.code).toBe(0);
      expect((await client(namespace).getGraph("from-stdin")).validation_status).toBe("VALID");
    });

    it("prints the validation errors per node of an INVALID graph and exits 3", async () => {
      const namespace = uniqueNamespace("apply-invalid");
      await startRuntime(namespace, [Fetch]);
      const graph = pipeline(namespace);
      graph.nodes[0] = { ...graph.nodes[0], inputs: {} };
      const { code, stdout, stderr } = await cli([
        "graph",
        "apply",
        "-f",
        writeGraph(`invalid-${namespace}`, graph),
        "-n",
        namespace,
      ]);
      expect(code).toBe(3);
      expect(stdout).toContain('Graph "pipeline" is INVALID: 2 problems.');
      expect(stdout).toContain(
        `  fetch (Fetch)\n    - Node "fetch" (Fetch): required input "url" is missing from the template's inputs.\n`,
      );
      expect(stdout).toContain(
        `  save (Store)\n    - Node Store in namespace ${namespace} does not exist.\n`,
      );
      expect(stderr).toContain('error: graph "pipeline" was not accepted (2 problems above)');
    });

    it("prints a structural error under its node and exits 3, saving nothing", async () => {
      const namespace = uniqueNamespace("apply-cycle");
      const graph = pipeline(namespace);
      graph.nodes[1] = { ...graph.nodes[1], next_nodes: ["ghost"] };
      const { code, stdout } = await cli([
        "graph",
        "apply",
        "-f",
        writeGraph(`cycle-${namespace}`, graph),
        "-n",
        namespace,
      ]);
      expect(code).toBe(3);
      expect(stdout).toContain(
        'Graph "pipeline" is refused (structure): 1 problem.\n  save (Store)\n    - node "save": next node "ghost" does not exist\n',
      );
      await expect(client(namespace).getGraph("pipeline")).rejects.toMatchObject({ status: 404 });
    });

    it("exits 2 on a file that is not a graph, before sending anything", async () => {
      const namespace = uniqueNamespace("apply-bad");
      const notJson = join(dir, "not-json.json");
      writeFileSync(notJson, "{ nodes: ");
      expect(await cli(["graph", "apply", "-f", notJson, "-n", namespace])).toMatchObject({
        code: 2,
        stderr: expect.stringContaining(`The graph file ${notJson} is not JSON`),
      });
      const noName = writeGraph("no-name", { nodes: [], secrets: {} });
      expect(await cli(["graph", "apply", "-f", noName, "-n", namespace])).toMatchObject({
        code: 2,
        stderr: expect.stringContaining("The graph has no name: pass --name <name>"),
      });
      const typo = writeGraph("typo", { ...pipeline(namespace), nextNodes: [] });
      expect(await cli(["graph", "apply", "-f", typo, "-n", namespace])).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('Unrecognized key: "nextNodes"'),
      });
      expect(
        await cli(["graph", "apply", "-f", join(dir, "missing.json"), "-n", namespace]),
      ).toMatchObject({ code: 2, stderr: expect.stringContaining("Cannot read the graph file") });
      expect(await cli(["graph", "apply", "-n", namespace])).toMatchObject({ code: 2 });
    });

    it("applies what graph get --json printed, once the secrets have values", async () => {
      const namespace = uniqueNamespace("round-trip");
      await startRuntime(namespace, [Fetch, Store]);
      await cli([
        "graph",
        "apply",
        "-f",
        writeGraph(`rt-${namespace}`, pipeline(namespace, { secrets: { token: "t" } })),
        "-n",
        namespace,
      ]);
      const printed = JSON.parse(
        (await cli(["graph", "get", "pipeline", "-n", namespace, "--json"])).stdout,
      ) as Record<string, unknown>;

      const withoutValues = await cli([
        "graph",
        "apply",
        "-f",
        writeGraph(`rt1-${namespace}`, printed),
        "--name",
        "pipeline",
        "-n",
        namespace,
      ]);
      expect(withoutValues.code).toBe(2);
      expect(withoutValues.stderr).toContain("secret values must be strings");

      const again = await cli([
        "graph",
        "apply",
        "-f",
        writeGraph(`rt2-${namespace}`, { ...printed, secrets: { token: "t2" } }),
        "--name",
        "pipeline",
        "-n",
        namespace,
      ]);
      expect(again).toMatchObject({
        code: 0,
        stdout: 'Graph "pipeline" applied: version 2, VALID (2 nodes).\n',
      });
    });
  });

  describe("graph get and graph list", () => {
    it("shows a graph's settings and nodes, and lists the graphs", async () => {
      const namespace = uniqueNamespace("get");
      await startRuntime(namespace, [Fetch, Store]);
      const file = writeGraph(
        `get-${namespace}`,
        pipeline(namespace, {
          secrets: { token: "secret-value" },
          store_config: { required_keys: ["cursor"], default_values: { tag: "v1" } },
          triggers: [{ type: "CRON", value: { expression: "0 9 * * 1-5" } }],
        }),
      );
      expect((await cli(["graph", "apply", "-f", file, "-n", namespace])).code).toBe(0);

      const { code, stdout } = await cli(["graph", "get", "pipeline", "-n", namespace]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Graph:\s+pipeline\n/);
      expect(stdout).toMatch(/\nVersion:\s+1\n/);
      expect(stdout).toMatch(/\nValidation:\s+VALID\n/);
      expect(stdout).toMatch(/\nSecrets:\s+token\n/);
      expect(stdout).toContain("FIXED, max 2 retries, backoff 500 ms");
      expect(stdout).toContain("required: cursor; defaults: tag=v1");
      expect(stdout).toContain("CRON 0 9 * * 1-5");
      expect(stdout).toMatch(/\nIDENTIFIER\s+NODE\s+NAMESPACE\s+NEXT\s+UNITES\n/);
      expect(stdout).toMatch(new RegExp(`\\nfetch\\s+Fetch\\s+${namespace}\\s+save\\s+-\\n`));
      expect(stdout).not.toContain("secret-value");

      const json = JSON.parse(
        (await cli(["graph", "get", "pipeline", "-n", namespace, "--json"])).stdout,
      );
      expect(json).toMatchObject({ version: 1, secrets: { token: true } });

      const list = await cli(["graph", "list", "-n", namespace]);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(
        /^NAME\s+VERSION\s+VALIDATION\s+NODES\s+UPDATED\npipeline\s+1\s+VALID\s+2\s+\d{4}-/,
      );
      const listJson = JSON.parse((await cli(["graph", "list", "-n", namespace, "--json"])).stdout);
      expect(listJson).toMatchObject([{ name: "pipeline", namespace, version: 1 }]);
    });

    it("exits 3 with the server's message for a graph that does not exist", async () => {
      const { code, stderr } = await cli([
        "graph",
        "get",
        "nope",
        "-n",
        uniqueNamespace("get-404"),
      ]);
      expect(code).toBe(3);
      expect(stderr).toMatch(
        /^error: Graph template nope not found in namespace \S+ \(404 GRAPH_NOT_FOUND\)\n/,
      );
    });
  });

  describe("graph delete", () => {
    it("refuses a graph with active runs, and deletes it with --cancel-runs", async () => {
      const namespace = uniqueNamespace("delete");
      await startRuntime(namespace, [Fetch, Store]);
      await cli([
        "graph",
        "apply",
        "-f",
        writeGraph(`delete-${namespace}`, pipeline(namespace)),
        "-n",
        namespace,
      ]);
      const sm = client(namespace);
      const { run_id } = await sm.trigger("pipeline", { startDelay: 60_000 });

      const refused = await cli(["graph", "delete", "pipeline", "-n", namespace]);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain("(409 GRAPH_HAS_ACTIVE_RUNS)");
      expect(refused.stderr).toContain("hint: pass --cancel-runs");

      const deleted = await cli(["graph", "delete", "pipeline", "--cancel-runs", "-n", namespace]);
      expect(deleted).toMatchObject({
        code: 0,
        stdout: 'Deleted graph "pipeline" (1 active run cancelled).\n',
      });
      expect((await sm.getRun(run_id)).status).toBe("CANCELLED");
      expect((await cli(["graph", "get", "pipeline", "-n", namespace])).code).toBe(3);
    });
  });
});
