import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { BaseNode } from "exospherehost";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";

import { runCli, uniqueNamespace, useCliServer } from "./helpers.js";

// Where the CLI finds its server, key and namespace: flags, then --profile, then the
// environment, then the profile file's default profile (docs/cli.md, "Connection").

class Echo extends BaseNode.define({
  inputs: z.object({ text: z.string() }),
  outputs: z.object({ text: z.string() }),
}) {
  async execute() {
    return { text: this.inputs.text };
  }
}

const DEAD_URL = "http://127.0.0.1:9";

describe("connection settings", () => {
  const { server, startRuntime } = useCliServer();
  const namespace = uniqueNamespace("profiles");
  const dir = mkdtempSync(join(tmpdir(), "exosphere-cli-config-"));
  let configPath: string;

  beforeAll(async () => {
    await startRuntime(namespace, [Echo]);
    configPath = join(dir, "config.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        default: "local",
        profiles: {
          local: { url: server().url, key: server().apiKey, namespace },
          dead: { url: DEAD_URL, key: "nope", namespace: "elsewhere" },
        },
      }),
    );
  });

  /** The namespaces the node listing answered for, or the exit code and stderr. */
  async function listNodes(args: string[], env: Record<string, string>) {
    const result = await runCli(["nodes", "list", "--json", ...args], { env });
    return result.code === 0
      ? {
          code: 0,
          namespaces: (JSON.parse(result.stdout) as { namespace: string }[]).map(
            (n) => n.namespace,
          ),
        }
      : { code: result.code, stderr: result.stderr };
  }

  it("uses the file's default profile when nothing else is given", async () => {
    expect(await listNodes([], { EXOSPHERE_CONFIG: configPath })).toEqual({
      code: 0,
      namespaces: [namespace],
    });
  });

  it("finds the file in $XDG_CONFIG_HOME/exosphere/config.json", async () => {
    const home = mkdtempSync(join(tmpdir(), "exosphere-cli-xdg-"));
    mkdirSync(join(home, "exosphere"));
    writeFileSync(
      join(home, "exosphere", "config.json"),
      JSON.stringify({
        default: "only",
        profiles: { only: { url: server().url, key: server().apiKey, namespace } },
      }),
    );
    expect(await listNodes([], { XDG_CONFIG_HOME: home })).toEqual({
      code: 0,
      namespaces: [namespace],
    });
  });

  it("lets the environment override the default profile", async () => {
    const result = await listNodes([], {
      EXOSPHERE_CONFIG: configPath,
      EXOSPHERE_STATE_MANAGER_URI: DEAD_URL,
    });
    expect(result.code).toBe(4);
  });

  it("lets --profile override the environment", async () => {
    expect(
      await listNodes(["--profile", "local"], {
        EXOSPHERE_CONFIG: configPath,
        EXOSPHERE_STATE_MANAGER_URI: DEAD_URL,
        EXOSPHERE_NAMESPACE: "elsewhere",
      }),
    ).toEqual({ code: 0, namespaces: [namespace] });
  });

  it("lets flags override --profile", async () => {
    expect(
      await listNodes(
        ["--profile", "dead", "--url", server().url, "--key", server().apiKey, "-n", namespace],
        { EXOSPHERE_CONFIG: configPath },
      ),
    ).toEqual({ code: 0, namespaces: [namespace] });
  });

  it("takes the namespace from EXOSPHERE_NAMESPACE", async () => {
    expect(
      await listNodes([], {
        EXOSPHERE_STATE_MANAGER_URI: server().url,
        EXOSPHERE_API_KEY: server().apiKey,
        EXOSPHERE_NAMESPACE: namespace,
      }),
    ).toEqual({ code: 0, namespaces: [namespace] });
  });

  it("exits 2 naming the known profiles when --profile names none of them", async () => {
    const result = await listNodes(["--profile", "prod"], { EXOSPHERE_CONFIG: configPath });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`No profile "prod" in ${configPath} (profiles: local, dead)`);
  });

  it("exits 2 when EXOSPHERE_CONFIG names a file that does not exist", async () => {
    const result = await listNodes([], { EXOSPHERE_CONFIG: join(dir, "missing.json") });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing.json does not exist");
  });

  it("exits 2 on a profile file that is not valid", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ profiles: { x: { url: "ftp://host" } }, extra: 1 }));
    const result = await listNodes([], { EXOSPHERE_CONFIG: bad });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`The profile file ${bad} is not valid`);
  });
});
