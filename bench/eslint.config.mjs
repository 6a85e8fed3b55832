// ESLint for the benchmark scripts (plain Node ESM). `npm run lint` at the root picks this file up
// for bench/ (ESLint uses the config nearest to each file); `npm run lint` in bench/ runs it alone.
// Same choices as the root config: recommended rules, the `^_` unused pattern, import sorting, and
// the type-aware promise rules (type information from bench/tsconfig.json).
import js from "@eslint/js";
import simpleImportSort from "eslint-plugin-simple-import-sort";
import tseslint from "typescript-eslint";

/** The Node.js globals the scripts use (the `globals` package is not a dependency). */
const NODE_GLOBALS = Object.fromEntries(
  [
    "AbortController",
    "AbortSignal",
    "Buffer",
    "URL",
    "clearInterval",
    "clearTimeout",
    "console",
    "fetch",
    "process",
    "setImmediate",
    "setInterval",
    "setTimeout",
  ].map((name) => [name, "readonly"]),
);

export default tseslint.config({ ignores: ["peers/**"] }, js.configs.recommended, {
  files: ["**/*.mjs"],
  languageOptions: {
    ecmaVersion: "latest",
    sourceType: "module",
    globals: NODE_GLOBALS,
    parser: tseslint.parser,
    parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
  },
  plugins: { "@typescript-eslint": tseslint.plugin, "simple-import-sort": simpleImportSort },
  rules: {
    "no-unused-vars": [
      "error",
      { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
    ],
    "@typescript-eslint/no-floating-promises": "error",
    "@typescript-eslint/no-misused-promises": "error",
    "simple-import-sort/imports": "error",
    curly: ["error", "multi-line"],
    eqeqeq: ["error", "always", { null: "ignore" }],
  },
});
