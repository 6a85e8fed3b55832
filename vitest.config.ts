import { defineConfig } from "vitest/config";

// One root config; each package is a Vitest project with its own config file.
export default defineConfig({
  test: {
    projects: ["packages/*/vitest.config.ts"],
    // Most test files wait on servers and databases rather than compute: two at a time keep
    // two cores busy (the default, cores - 1, runs them one by one here).
    maxWorkers: 2,
  },
});
