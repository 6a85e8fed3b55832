#!/usr/bin/env node
// The `exosphere` command. Everything is in main.ts; this file only hands it the process.
import { readEnvironment } from "./config.js";
import { main } from "./main.js";

process.exitCode = await main(process.argv.slice(2), {
  environment: readEnvironment(),
  stdout: process.stdout,
  stderr: process.stderr,
});
