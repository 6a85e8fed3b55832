#!/usr/bin/env bash
# Check the three published packages as a user gets them from the registry:
#
#   1. build, then publint and @arethetypeswrong/cli on `exospherehost` (packages/sdk) and
#      `@exosphere/state-manager` (packages/state-manager), publint on `@exosphere/cli`
#      (packages/cli: a bin, no types to check);
#   2. pack them, install the tarballs into a scratch project in a temp dir, start the packed
#      state manager on SQLite, and run the quick start against it as
#        - ESM (`import`), CJS (`require`, Node's require(esm)),
#        - TypeScript strict with module/moduleResolution NodeNext (an .mts and a .cts file,
#          compiled and run) and with moduleResolution bundler (type-checked);
#      then read the runs it made with the packed `exosphere` CLI.
#
# Usage: scripts/check-packages.sh            (from anywhere; about 2-3 minutes, mostly npm)
#        KEEP_SCRATCH=1 scripts/check-packages.sh   keeps the scratch project for inspection
# Needs the npm registry (zod, typescript and the state manager's dependencies).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
step() { printf '\n== %s\n' "$*"; }

step "build"
npm run build --silent

step "publint and attw"
for pkg in packages/sdk packages/state-manager; do
  npx --no-install publint run --strict "$pkg"
  # Profile node16: the packages need Node >= 20.19, so TypeScript's legacy node10 resolution
  # (which ignores `exports` subpaths) is out of scope. ESM only, loaded by require() through
  # Node's require(esm) (typed by TypeScript >= 5.8 under module nodenext); attw bundles an older
  # TypeScript that calls that "CJS resolves to ESM", so that rule is off: the scratch project
  # below runs require() for real.
  (cd "$pkg" && npx --no-install attw --pack . --profile node16 --ignore-rules cjs-resolves-to-esm)
done
npx --no-install publint run --strict packages/cli

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/exosphere-packages.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [[ -z "${KEEP_SCRATCH:-}" ]]; then rm -rf "$SCRATCH"; else echo "scratch project kept in $SCRATCH"; fi
}
trap cleanup EXIT

step "pack"
mkdir -p "$SCRATCH/tarballs" "$SCRATCH/app"
npm pack --silent --pack-destination "$SCRATCH/tarballs" -w packages/sdk -w packages/state-manager -w packages/cli >/dev/null
SDK_TGZ="$(ls "$SCRATCH"/tarballs/exospherehost-*.tgz)"
SM_TGZ="$(ls "$SCRATCH"/tarballs/exosphere-state-manager-*.tgz)"
CLI_TGZ="$(ls "$SCRATCH"/tarballs/exosphere-cli-*.tgz)"
for tgz in "$SDK_TGZ" "$SM_TGZ" "$CLI_TGZ"; do
  listing="$(tar -tzf "$tgz")"
  for required in package/LICENSE package/README.md package/package.json; do
    grep -qx "$required" <<<"$listing" || { echo "$tgz lacks $required" >&2; exit 1; }
  done
  if grep -E '\.tsbuildinfo$|\.test\.(js|ts|d\.ts)$' <<<"$listing"; then
    echo "$tgz ships build info or tests (above)" >&2
    exit 1
  fi
  # Every source map must point at a file the tarball ships.
  tar -xzf "$tgz" -C "$SCRATCH/tarballs" --one-top-level="$(basename "$tgz" .tgz)"
done
node - "$SCRATCH/tarballs" <<'NODE'
const { readdirSync, readFileSync, existsSync, statSync } = require("node:fs");
const { join, dirname, resolve } = require("node:path");
const root = process.argv[2];
const walk = (dir) => readdirSync(dir).flatMap((name) => {
  const path = join(dir, name);
  return statSync(path).isDirectory() ? walk(path) : [path];
});
let bad = 0;
for (const file of walk(root).filter((f) => f.endsWith(".map"))) {
  for (const source of JSON.parse(readFileSync(file, "utf8")).sources ?? []) {
    if (!existsSync(resolve(dirname(file), source))) {
      console.error(`${file}: source ${source} is not in the package`);
      bad += 1;
    }
  }
}
if (bad > 0) process.exit(1);
NODE

step "scratch project"
TS_VERSION="$(node -p 'require("typescript/package.json").version')"
ZOD_VERSION="$(node -p 'require("zod/package.json").version')"
cd "$SCRATCH/app"
cat > package.json <<JSON
{
  "name": "exosphere-packages-check",
  "private": true,
  "type": "module",
  "dependencies": {
    "@exosphere/cli": "file:$CLI_TGZ",
    "@exosphere/state-manager": "file:$SM_TGZ",
    "exospherehost": "file:$SDK_TGZ",
    "zod": "$ZOD_VERSION"
  },
  "devDependencies": { "@types/node": "^20.19.0", "typescript": "$TS_VERSION" }
}
JSON
npm install --silent --no-audit --no-fund --ignore-scripts
# better-sqlite3's install script downloads a prebuilt binary or compiles one; reuse the
# workspace's build when it is the same version, else compile against the local Node headers.
if [[ "$(node -p 'require("better-sqlite3/package.json").version')" == \
      "$(cd "$ROOT" && node -p 'require("better-sqlite3/package.json").version')" ]]; then
  cp -r "$ROOT/node_modules/better-sqlite3/build" node_modules/better-sqlite3/
else
  npm rebuild better-sqlite3 --nodedir="$(dirname "$(dirname "$(command -v node)")")"
fi

step "start the packed state manager"
PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
export EXOSPHERE_STATE_MANAGER_URI="http://127.0.0.1:$PORT"
export EXOSPHERE_API_KEY="check-packages-key"
MODE=production HOST=127.0.0.1 PORT="$PORT" LOG_LEVEL=warn \
  DATABASE_URL="sqlite://$SCRATCH/exosphere.db" \
  STATE_MANAGER_SECRET="$EXOSPHERE_API_KEY" \
  SECRETS_ENCRYPTION_KEY="$(node -e "console.log(require('crypto').randomBytes(32).toString('base64url')+'=')")" \
  ./node_modules/.bin/exosphere-state-manager &
SERVER_PID=$!
for _ in $(seq 1 100); do
  if curl -sf "$EXOSPHERE_STATE_MANAGER_URI/health" >/dev/null; then break; fi
  sleep 0.1
done
curl -sf "$EXOSPHERE_STATE_MANAGER_URI/health" >/dev/null

# The quick start of the SDK's README, once per module system. NAMESPACE keeps the runs apart.
cat > quickstart.mjs <<'JS'
import { BaseNode, graph, Runtime, StateManager } from "exospherehost";
import { z } from "zod";

class SampleNode extends BaseNode.define({
  inputs: z.object({ name: z.string(), data: z.string() }),
  outputs: z.object({ message: z.string(), processed_data: z.string() }),
}) {
  async execute() {
    return { message: "success", processed_data: `completed:${this.inputs.data}` };
  }
}

const namespace = process.env.NAMESPACE;
const runtime = new Runtime({ namespace, name: "DataProcessor", nodes: [SampleNode] });
const running = runtime.start();
await runtime.waitUntilReady();
const sm = new StateManager({ namespace });
const g = graph("my-workflow");
g.node(SampleNode, { id: "sample", inputs: { name: "initial", data: "initial" } });
await sm.upsertGraph(g);
const { run_id } = await sm.trigger("my-workflow", { inputs: { name: "Ada", data: "hello" } });
const { status } = await sm.waitForRun(run_id);
await runtime.stop();
await running;
console.log(`${namespace}: ${status}`);
if (status !== "SUCCESS") process.exit(1);
JS

cat > quickstart.cjs <<'JS'
const { defineNode, graph, Runtime, StateManager } = require("exospherehost");
const { z } = require("zod");

const SampleNode = defineNode({
  name: "SampleNode",
  inputs: z.object({ name: z.string(), data: z.string() }),
  outputs: z.object({ message: z.string(), processed_data: z.string() }),
  execute: async ({ inputs }) => ({ message: "success", processed_data: `completed:${inputs.data}` }),
});

async function main() {
  const namespace = process.env.NAMESPACE;
  const runtime = new Runtime({ namespace, name: "DataProcessor", nodes: [SampleNode] });
  const running = runtime.start();
  await runtime.waitUntilReady();
  const sm = new StateManager({ namespace });
  const g = graph("my-workflow");
  g.node(SampleNode, { id: "sample", inputs: { name: "initial", data: "initial" } });
  await sm.upsertGraph(g);
  const { run_id } = await sm.trigger("my-workflow", { inputs: { name: "Ada", data: "hello" } });
  const { status } = await sm.waitForRun(run_id);
  await runtime.stop();
  await running;
  console.log(`${namespace}: ${status}`);
  if (status !== "SUCCESS") process.exit(1);
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
JS

mkdir -p ts
sed -e 's/^const namespace = process.env.NAMESPACE;/const namespace = process.env.NAMESPACE ?? "";/' quickstart.mjs > ts/quickstart.mts
sed -e 's/const namespace = process.env.NAMESPACE;/const namespace = process.env.NAMESPACE ?? "";/' \
    -e 's/^const { defineNode, graph, Runtime, StateManager } = require("exospherehost");/import { defineNode, graph, Runtime, StateManager } from "exospherehost";/' \
    -e 's/^const { z } = require("zod");/import { z } from "zod";/' quickstart.cjs > ts/quickstart.cts
# A typo must not compile in either style (the point of the inferred types).
cat > ts/typo.mts <<'TS'
import { BaseNode } from "exospherehost";
import { z } from "zod";
export class Typo extends BaseNode.define({ inputs: z.object({ name: z.string() }) }) {
  execute() {
    // @ts-expect-error -- misspelled input
    void this.inputs.nmae;
    return null;
  }
}
TS
cat > tsconfig.nodenext.json <<'JSON'
{
  "compilerOptions": {
    "strict": true,
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "types": ["node"],
    "outDir": "dist-nodenext",
    "rootDir": "ts"
  },
  "include": ["ts"]
}
JSON
cat > tsconfig.bundler.json <<'JSON'
{
  "compilerOptions": {
    "strict": true,
    "target": "ES2022",
    "module": "ESNext",
    "moduleResolution": "bundler",
    "types": ["node"],
    "noEmit": true
  },
  "include": ["ts/quickstart.mts", "ts/typo.mts"]
}
JSON

step "TypeScript (strict, NodeNext and bundler)"
npx --no-install tsc -p tsconfig.nodenext.json
npx --no-install tsc -p tsconfig.bundler.json

step "run the quick start"
NAMESPACE=esm node quickstart.mjs
NAMESPACE=cjs node quickstart.cjs
NAMESPACE=ts-esm node dist-nodenext/quickstart.mjs
NAMESPACE=ts-cjs node dist-nodenext/quickstart.cjs

step "the packed CLI reads what the quick start did"
./node_modules/.bin/exosphere --version
./node_modules/.bin/exosphere -n esm graph get my-workflow
./node_modules/.bin/exosphere -n esm run list --status SUCCESS
RUN_ID="$(./node_modules/.bin/exosphere -n esm run list --json | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8"))[0].run_id')"
./node_modules/.bin/exosphere -n esm run watch "$RUN_ID"

step "packages OK"
