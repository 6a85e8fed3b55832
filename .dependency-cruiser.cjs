/**
 * Dependency rules (STYLE.md §2; docs/architecture.md "Layers"). `npm run check` fails on any
 * violation. In the state manager, dependencies point one way:
 *   http → engine → storage → domain, and domain depends on nothing.
 */
const SM = "^packages/state-manager/src";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "domain-is-pure",
      comment: "domain/ holds pure rules and types: no I/O, no engine, storage, http or config.",
      severity: "error",
      from: { path: `${SM}/domain/` },
      to: { pathNot: `${SM}/domain/` },
    },
    {
      name: "storage-below-engine",
      comment: "storage/ implements the Store for the engine; it never reaches up.",
      severity: "error",
      from: { path: `${SM}/storage/` },
      to: { path: `${SM}/(engine|http|config|app|server|main|logger)` },
    },
    {
      name: "engine-below-http",
      comment: "engine/ is a library that HTTP calls; it never knows about HTTP or configuration.",
      severity: "error",
      from: { path: `${SM}/engine/` },
      to: { path: `${SM}/(http|config|app|server|main)` },
    },
    {
      name: "http-not-storage",
      comment:
        "http/ talks to the engine only; storage errors reach it as domain errors, never as driver errors.",
      severity: "error",
      from: { path: `${SM}/http/` },
      to: { path: `${SM}/storage/|^node_modules/(@types/)?(pg|better-sqlite3|mongodb)/` },
    },
    {
      name: "dialects-apart",
      comment: "One backend's folder never imports another's.",
      severity: "error",
      from: { path: `${SM}/storage/([^/]+)/` },
      to: {
        path: `${SM}/storage/(sqlite|postgres|mongo)/`,
        pathNot: `${SM}/storage/$1/`,
      },
    },
    {
      name: "no-package-internals",
      comment: "Packages use each other through their published entry points only.",
      severity: "error",
      from: { path: "^(packages|examples)/([^/]+)/" },
      to: { path: "^packages/([^/]+)/src/", pathNot: "^(packages|examples)/$2/" },
    },
    {
      name: "cli-over-sdk",
      comment:
        "The CLI is a client: it talks to the state manager over HTTP through the SDK, never by importing the server (server start runs its bin as a process).",
      severity: "error",
      from: { path: "^packages/cli/" },
      to: {
        path: "^packages/(state-manager|test-utils)/|^node_modules/@exosphere/(state-manager|test-utils)/",
      },
    },
    {
      name: "no-circular",
      severity: "error",
      from: { path: `${SM}/` },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Our own packages' builds are not cruised; a workspace package another one imports is
    // seen under node_modules/ (preserveSymlinks), so rules can name it there.
    exclude: { path: "^(packages|examples)/[^/]+/dist/|\\.test\\.ts$|/test/" },
    preserveSymlinks: true,
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    enhancedResolveOptions: {
      extensions: [".ts", ".js"],
      conditionNames: ["import", "types", "default"],
    },
  },
};
