import { defineConfig } from "vitest/config";

// One root config; each package is a Vitest project with its own config file.
export default defineConfig({
  test: {
    projects: ["packages/*/vitest.config.ts"],
  },
});
