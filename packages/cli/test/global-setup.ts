/**
 * Builds what the tests run, once, before any test file starts: the CLI (run as a process, as
 * users run it), the SDK it uses and test-utils. The state manager itself is built by
 * `npm test` (`npm run build`) beforehand.
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
    [tsc, "-b", "packages/sdk", "packages/test-utils", "packages/cli"],
    { cwd: repoRoot, timeout: 180_000 },
  );
}
