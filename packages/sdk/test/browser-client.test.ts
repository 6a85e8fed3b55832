import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import { silentLogger, StateManager } from "../src/client.js";
import { useStateManager } from "./helpers.js";

// The browser path of the SDK (`exospherehost/client`, used by the dashboard): no Node module
// anywhere in its imports, and a client that authenticates with the session cookie sends no key.
// The cookie itself round-trips in a real browser in the dashboard's end-to-end tests (Node's
// fetch keeps no cookies).

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

/** Every module reachable from `entry` through relative imports, with the specifiers it imports. */
function importGraph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    const text = readFileSync(file, "utf8");
    const specifiers = [...text.matchAll(/^(?:import|export)[^;]*?from\s+"([^"]+)"/gms)].map(
      (match) => match[1] ?? "",
    );
    seen.set(file, specifiers);
    for (const specifier of specifiers) {
      if (specifier.startsWith(".")) {
        visit(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")));
      }
    }
  };
  visit(entry);
  return seen;
}

describe("exospherehost/client", () => {
  it("imports no Node module, directly or through its imports", () => {
    const graph = importGraph(resolve(SRC, "client.ts"));
    expect(graph.size).toBeGreaterThan(5);
    const nodeImports = [...graph].flatMap(([file, specifiers]) =>
      specifiers.filter((s) => s.startsWith("node:")).map((s) => `${file}: ${s}`),
    );
    expect(nodeImports).toEqual([]);
  });
});

describe("a client with useSessionCookie", () => {
  const sm = useStateManager();
  const sessionClient = () =>
    new StateManager({
      namespace: "browser",
      stateManagerUri: sm.server().url,
      useSessionCookie: true,
      logger: silentLogger,
    });

  it("needs no key and sends none: without a cookie the server answers 401", async () => {
    await expect(sessionClient().listNodes()).rejects.toMatchObject({
      status: 401,
      code: "UNAUTHORIZED",
    });
  });

  it("signs in with the key; a wrong key is 401", async () => {
    const client = sessionClient();
    await expect(client.signIn("not-the-key")).rejects.toMatchObject({ status: 401 });
    const { expires_at } = await client.signIn(sm.server().apiKey);
    expect(Date.parse(expires_at)).toBeGreaterThan(Date.now());
  });

  it("signs out only with a session: here (no cookie jar) the server answers 401", async () => {
    await expect(sessionClient().signOut()).rejects.toMatchObject({ status: 401 });
  });
});
