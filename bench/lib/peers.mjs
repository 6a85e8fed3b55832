// The peer queues (BullMQ, graphile-worker, pg-boss) live in bench/peers, their own package: not
// a workspace member, so the project's `npm install` never fetches them. They are installed on
// demand, the first time a run needs them.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const peersDir = fileURLToPath(new URL("../peers/", import.meta.url));

const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

/** Pinned versions, from bench/peers/package.json. */
export const pinnedPeers = () => readJson(join(peersDir, "package.json")).dependencies;

/** The installed version of a peer package, or undefined. */
export function peerVersion(name) {
  const path = join(peersDir, "node_modules", name, "package.json");
  return existsSync(path) ? readJson(path).version : undefined;
}

/**
 * Installs bench/peers when a pinned package is missing or at another version: `npm ci` from the
 * committed lock file, `--ignore-scripts` so that nothing runs (or downloads a binary) at install
 * time. Returns true when it installed.
 */
export function ensurePeersInstalled(log) {
  const stale = Object.entries(pinnedPeers()).filter(([name, v]) => peerVersion(name) !== v);
  if (stale.length === 0) return false;
  const command = existsSync(join(peersDir, "package-lock.json")) ? "ci" : "install";
  const args = [command, "--prefix", peersDir, "--no-audit", "--no-fund", "--ignore-scripts"];
  log(
    `installing the peer queues (${stale.map(([n, v]) => `${n}@${v}`).join(", ")}): npm ${args.join(" ")}`,
  );
  const result = spawnSync("npm", args, { stdio: ["ignore", "inherit", "inherit"] });
  if (result.status !== 0) {
    throw new Error(`npm ${command} in ${peersDir} failed (${result.status})`);
  }
  const still = Object.entries(pinnedPeers()).filter(([name, v]) => peerVersion(name) !== v);
  if (still.length > 0) {
    throw new Error(
      `after npm ${command}, still not installed: ${still.map(([n]) => n).join(", ")}`,
    );
  }
  return true;
}

/** `require()` of a peer package from bench/peers/node_modules. */
export const requirePeer = createRequire(join(peersDir, "package.json"));
