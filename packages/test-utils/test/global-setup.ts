/**
 * Builds this package once before the tests: the orphan test runs a separate process that imports
 * the built package, as a test file in another package would.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export async function setup(): Promise<void> {
  const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  await promisify(execFile)(process.execPath, [tsc, "-b", "packages/test-utils"], {
    cwd: repoRoot,
    timeout: 120_000,
  });
}
