import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "sdk",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The type tests (test/types/*.test-d.ts) run under tsc with tsconfig.test.json, which covers
    // src and test too: a type error anywhere, or a `@ts-expect-error` that no longer errors,
    // fails the run.
    typecheck: {
      enabled: true,
      include: ["test/types/**/*.test-d.ts"],
      tsconfig: "./tsconfig.test.json",
    },
  },
});
