import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "dashboard",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The end-to-end suite drives one browser through one server, step by step.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
