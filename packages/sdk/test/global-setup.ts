/**
 * Builds what the tests run as separate processes, once, before any test file starts: the SDK
 * (imported by the SIGTERM fixture), test-utils (imported by every integration test) and the
 * examples. One `tsc -b` for all avoids test files racing each other to write the same dist.
 * The state manager itself is built by `npm test` (`npm run build`) beforehand.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export async function setup(): Promise<void> {
  const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  await promisify(execFile)(
    process.execPath,
    [
      tsc,
      "-b",
      "packages/sdk",
      "packages/test-utils",
      "examples/quickstart",
      "examples/fanout-unite",
    ],
    { cwd: repoRoot, timeout: 180_000 },
  );
}
