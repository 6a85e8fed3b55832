/** Opens (and migrates) the backend a configuration names. */
import type { Logger } from "pino";

import { MongoStore } from "./mongo/mongo-store.js";
import { PostgresStore } from "./postgres/postgres-store.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";
import type { Store } from "./store.js";

export type StoreLocation =
  | { readonly kind: "sqlite"; readonly path: string; readonly synchronous: "NORMAL" | "FULL" }
  | {
      readonly kind: "postgres";
      readonly url: string;
      readonly poolSize: number;
      readonly connectTimeoutMs: number;
    }
  | {
      readonly kind: "mongo";
      readonly uri: string;
      readonly databaseName: string;
      readonly poolSize: number;
      readonly connectTimeoutMs: number;
    };

export async function openStore(location: StoreLocation, logger: Logger): Promise<Store> {
  if (location.kind === "sqlite") {
    return SqliteStore.open({ path: location.path, synchronous: location.synchronous });
  }
  if (location.kind === "mongo") {
    return MongoStore.open({
      uri: location.uri,
      databaseName: location.databaseName,
      poolSize: location.poolSize,
      connectTimeoutMs: location.connectTimeoutMs,
      logger,
    });
  }
  return PostgresStore.open({
    connectionString: location.url,
    poolSize: location.poolSize,
    connectTimeoutMs: location.connectTimeoutMs,
    logger,
  });
}
