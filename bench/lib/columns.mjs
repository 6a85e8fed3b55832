// The columns of the table: one system in one profile each. `npm run bench` runs the Exosphere
// columns; `--peers` adds the others; `--systems` picks any of them.

export const COLUMNS = [
  { id: "exosphere-sqlite", system: "exosphere", needs: [] },
  { id: "exosphere-postgres", system: "exosphere", needs: ["postgres"] },
  // In `npm run bench` only with BENCH_MONGO_URI; `--systems exosphere-mongo` without it runs on
  // the jongodb test server (bench/lib/mongo.mjs).
  { id: "exosphere-mongo", system: "exosphere", needs: ["mongo"] },
  { id: "bullmq", system: "bullmq", needs: ["redis", "peers"] },
  { id: "graphile-worker-default", system: "graphile-worker", needs: ["postgres", "peers"] },
  { id: "graphile-worker-batched", system: "graphile-worker", needs: ["postgres", "peers"] },
  { id: "pg-boss-default", system: "pg-boss", needs: ["postgres", "peers"] },
  { id: "pg-boss-batched", system: "pg-boss", needs: ["postgres", "peers"] },
];

/** Creates the driver of one column (see column.mjs for the driver interface). */
export async function createDriver(config) {
  const profile = config.column.endsWith("-batched") ? "batched" : "default";
  switch (config.column) {
    case "exosphere-sqlite":
    case "exosphere-postgres":
    case "exosphere-mongo": {
      const { createExosphereDriver } = await import("../systems/exosphere.mjs");
      return createExosphereDriver({
        store: config.column.slice("exosphere-".length),
        replicas: config.replicas,
        batchSize: config.batchSize,
        serverEntry: config.serverEntry,
        postgres: config.postgres,
        mongo: config.mongo,
      });
    }
    case "bullmq": {
      const { createBullmqDriver } = await import("../systems/bullmq.mjs");
      return createBullmqDriver({ redis: config.redis });
    }
    case "graphile-worker-default":
    case "graphile-worker-batched": {
      const { createGraphileWorkerDriver } = await import("../systems/graphile-worker.mjs");
      return createGraphileWorkerDriver({ profile, postgres: config.postgres });
    }
    case "pg-boss-default":
    case "pg-boss-batched": {
      const { createPgBossDriver } = await import("../systems/pg-boss.mjs");
      return createPgBossDriver({ profile, postgres: config.postgres });
    }
    default:
      throw new Error(`unknown column ${config.column}`);
  }
}
