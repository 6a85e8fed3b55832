// Preloaded (node --import data:...) into every state manager that startStateManager spawns. The
// parent holds the write end of the child's stdin; when the parent dies in any way (even SIGKILL,
// which runs no exit handler) the pipe reaches EOF and the child shuts down and removes the temp
// dir named by EXOSPHERE_TEST_CLEANUP_DIR, so no test ever leaves a server or a database behind.
// Kept as source text so that it works the same from src/ (Vitest) and dist/.

/** Environment variable naming the directory the child removes when orphaned. */
export const CLEANUP_DIR_ENV = "EXOSPHERE_TEST_CLEANUP_DIR";

const WATCHDOG_SOURCE = `
import { rmSync } from "node:fs";
const dir = process.env.${CLEANUP_DIR_ENV};
const cleanup = () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
};
const exitSoon = () => {
  process.on("exit", cleanup);
  setTimeout(() => process.exit(1), 3000).unref();
  // Let the server close its database cleanly when it handles SIGTERM; else just exit.
  if (process.listenerCount("SIGTERM") > 0) process.kill(process.pid, "SIGTERM");
  else process.exit(1);
};
process.stdin.on("end", exitSoon);
process.stdin.on("error", exitSoon);
process.stdin.resume();
process.stdin.unref?.();
`;

/** The `--import` specifier of the watchdog. */
export const PARENT_WATCHDOG_IMPORT = `data:text/javascript,${encodeURIComponent(WATCHDOG_SOURCE)}`;
