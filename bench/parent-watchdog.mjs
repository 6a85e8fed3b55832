// Preloaded (node --import) into the state manager that run.mjs spawns. run.mjs holds the write end
// of our stdin; when it dies in any way (even SIGKILL) the pipe reaches EOF and the server shuts
// down, so an interrupted benchmark never leaves a server behind.
const exitSoon = () => {
  setTimeout(() => process.exit(1), 3_000).unref();
  process.kill(process.pid, "SIGTERM");
};
process.stdin.on("end", exitSoon);
process.stdin.on("error", exitSoon);
process.stdin.resume();
process.stdin.unref?.();
