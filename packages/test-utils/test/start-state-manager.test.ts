import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import { generateEncryptionKey, startStateManager, stateManagerEntry } from "../src/index.js";
import { waitFor } from "../src/wait-for.js";

// The fixture itself, against a stand-in server script so that it is tested without the real one.

const fakeServer = fileURLToPath(new URL("./fixtures/fake-server.mjs", import.meta.url));
const orphaningParent = fileURLToPath(new URL("./fixtures/orphaning-parent.mjs", import.meta.url));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function config(url: string): Promise<Record<string, string>> {
  return (await (await fetch(`${url}/config`)).json()) as Record<string, string>;
}

describe("startStateManager", () => {
  it("starts the server on a free port with a temp SQLite file, a key and an encryption key", async () => {
    const server = await startStateManager({ serverEntry: fakeServer, leaseMs: 1234 });
    try {
      const seen = await config(server.url);
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect(seen.databaseUrl).toBe(server.databaseUrl);
      expect(server.databaseUrl).toMatch(/^sqlite:\/\/\/.+\/exosphere\.db$/);
      expect(seen.apiKey).toBe(server.apiKey);
      expect(seen.encryptionKey).toMatch(/^[A-Za-z0-9_-]{43}=$/);
      expect(seen.leaseMs).toBe("1234");
      expect(seen.mode).toBe("development");
    } finally {
      await server.stop();
    }
    const dir = server.databaseUrl.slice("sqlite://".length).replace(/\/exosphere\.db$/, "");
    expect(existsSync(dir)).toBe(false);
    expect(server.pid).toBeUndefined();
  });

  it("restarts on the same port and database, after a stop or a kill", async () => {
    const server = await startStateManager({ serverEntry: fakeServer });
    try {
      const first = await config(server.url);
      await server.kill("SIGKILL");
      await expect(fetch(`${server.url}/health`)).rejects.toThrow();
      await server.restart();
      const second = await config(server.url);
      expect(second.pid).not.toBe(first.pid);
      expect(second.databaseUrl).toBe(first.databaseUrl);
      await server.restart();
      expect((await config(server.url)).pid).not.toBe(second.pid);
    } finally {
      await server.stop();
    }
    await expect(server.restart()).rejects.toThrow(/after stop/);
  });

  it("reports a server that fails to start with its output", async () => {
    await expect(
      startStateManager({ serverEntry: fakeServer, env: { FAKE_FAIL_AT_START: "1" } }),
    ).rejects.toThrow(/exited during startup \(code 3[\s\S]*cannot start: FAKE_FAIL_AT_START/);
  });

  it("names the build step when the server is not built", async () => {
    await expect(startStateManager({ serverEntry: "/nonexistent/main.js" })).rejects.toThrow(
      /npm run build/,
    );
    expect(stateManagerEntry()).toMatch(/packages\/state-manager\/dist\/main\.js$/);
  });

  it("leaves no server and no temp dir behind when the test process dies without cleaning up", async () => {
    const parent = spawn(process.execPath, [orphaningParent, fakeServer], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    parent.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const line = await waitFor(() => /^(\d+) sqlite:\/\/(\S+)\/exosphere\.db\n/.exec(out), {
      timeoutMs: 15_000,
    });
    const pid = Number(line[1]);
    const dir = line[2] ?? "";
    expect(isAlive(pid)).toBe(true);
    expect(existsSync(dir)).toBe(true);
    parent.kill("SIGKILL");
    await waitFor(() => !isAlive(pid), { timeoutMs: 10_000, message: `server ${pid} still alive` });
    await waitFor(() => !existsSync(dir), { timeoutMs: 5_000, message: `${dir} still exists` });
  });
});

describe("generateEncryptionKey", () => {
  it("encodes 32 random bytes as padded URL-safe base64", () => {
    const key = generateEncryptionKey();
    expect(key).toHaveLength(44);
    expect(Buffer.from(key.replace(/-/g, "+").replace(/_/g, "/"), "base64")).toHaveLength(32);
    expect(generateEncryptionKey()).not.toBe(key);
  });
});
