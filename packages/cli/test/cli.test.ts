import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode } from "exospherehost";

import { runCli, uniqueNamespace, useCliServer } from "./helpers.js";

// The program itself: help, usage errors, connection failures and their exit codes, and the
// listings that need no run: nodes and namespaces.

const COMMANDS = [
  [],
  ["server"],
  ["server", "start"],
  ["graph"],
  ["graph", "apply"],
  ["graph", "get"],
  ["graph", "list"],
  ["graph", "delete"],
  ["run"],
  ["run", "trigger"],
  ["run", "list"],
  ["run", "get"],
  ["run", "watch"],
  ["run", "cancel"],
  ["run", "retry-failed"],
  ["state"],
  ["state", "retry"],
  ["nodes"],
  ["nodes", "list"],
  ["namespaces"],
  ["namespaces", "list"],
];

class Greeter extends BaseNode.define({
  inputs: z.object({ name: z.string() }),
  outputs: z.object({ greeting: z.string() }),
  secrets: z.object({ token: z.string() }),
}) {
  async execute() {
    return { greeting: `hello ${this.inputs.name}` };
  }
}

describe("exosphere --help", () => {
  it.each(COMMANDS.map((path) => [path.join(" ") || "(root)", path]))(
    "%s --help prints usage and exits 0",
    async (_name, path) => {
      const { code, stdout } = await runCli([...path, "--help"]);
      expect(code).toBe(0);
      expect(stdout).toContain("Usage: exosphere");
      expect(stdout).toContain("--json");
    },
  );

  it("prints the version", async () => {
    const { code, stdout } = await runCli(["--version"]);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("usage errors", () => {
  it("exits 2 on an unknown command", async () => {
    const { code, stderr } = await runCli(["graph", "frobnicate"]);
    expect(code).toBe(2);
    expect(stderr).toContain("unknown command");
  });

  it("exits 2 on a missing argument", async () => {
    const { code, stderr } = await runCli(["run", "get"]);
    expect(code).toBe(2);
    expect(stderr).toContain("missing required argument 'run-id'");
  });

  it("exits 2 on a bad option value, naming the option", async () => {
    const { code, stderr } = await runCli(["run", "list", "-n", "ns", "--limit", "0"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--limit");
  });

  it("exits 2 when no namespace is given anywhere, saying where to give one", async () => {
    const { code, stderr } = await runCli(["graph", "list"]);
    expect(code).toBe(2);
    expect(stderr).toContain("No namespace: pass --namespace <ns>, set EXOSPHERE_NAMESPACE");
  });

  it("exits 2 on a URL that is not one", async () => {
    const { code, stderr } = await runCli(["graph", "list", "-n", "ns", "--url", "nope"]);
    expect(code).toBe(2);
    expect(stderr).toContain('The state manager URL "nope" is not a URL');
  });
});

describe("connection failures", () => {
  it("exits 4 when the server cannot be reached", async () => {
    const { code, stderr } = await runCli([
      "graph",
      "list",
      "-n",
      "ns",
      "--url",
      "http://127.0.0.1:9",
    ]);
    expect(code).toBe(4);
    expect(stderr).toContain("error: GET http://127.0.0.1:9/v0/namespace/ns/graphs/ failed");
    expect(stderr).toContain("hint: start one with: exosphere server start");
  });
});

describe("against a state manager", () => {
  const { cli, server, startRuntime } = useCliServer();

  it("exits 3 with the server's message when the key is wrong", async () => {
    const { code, stderr } = await cli(["graph", "list", "-n", "ns", "--key", "wrong"]);
    expect(code).toBe(3);
    expect(stderr).toContain("error: Invalid API key (401");
    expect(stderr).toContain("hint: pass --key, set EXOSPHERE_API_KEY");
  });

  it("lists registered nodes as a table and as JSON", async () => {
    const namespace = uniqueNamespace("nodes");
    expect((await cli(["nodes", "list", "-n", namespace])).stdout).toBe("No nodes registered.\n");
    await startRuntime(namespace, [Greeter]);

    const table = await cli(["nodes", "list", "-n", namespace]);
    expect(table.code).toBe(0);
    const [header, row] = table.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^NAME\s+RUNTIME\s+INPUTS\s+OUTPUTS\s+SECRETS\s+UPDATED$/);
    expect(row).toMatch(/^Greeter\s+rt\s+name\s+greeting\s+token\s+\d{4}-\d\d-\d\d /);

    const json = await cli(["nodes", "list", "--namespace", namespace, "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject([
      { name: "Greeter", namespace, runtime_name: "rt", secrets: ["token"] },
    ]);
  });

  it("lists namespaces without needing one", async () => {
    const namespace = uniqueNamespace("namespaces");
    await startRuntime(namespace, [Greeter]);
    const { code, stdout } = await cli(["namespaces", "list"]);
    expect(code).toBe(0);
    expect(stdout.split("\n")).toContain(namespace);
    const json = await cli(["--json", "namespaces", "list", "--url", server().url]);
    expect(JSON.parse(json.stdout)).toContain(namespace);
  });
});
