import type { Logger } from "pino";

import type { Config } from "../config.js";
import type { Dispatcher } from "../engine/dispatcher.js";
import { PostgresStore } from "./postgres/postgres-store.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";
import type { Store } from "./store.js";

/** Opens (and migrates) the store that DATABASE_URL names. */
export async function openStore(
  config: Config,
  logger: Logger,
  dispatcher: Dispatcher,
): Promise<Store> {
  if (config.database.kind === "sqlite") {
    return SqliteStore.open({ path: config.database.path, synchronous: config.sqliteSynchronous });
  }
  return PostgresStore.open({
    connectionString: config.database.url,
    poolSize: config.pgPoolSize,
    connectTimeoutMs: config.pgConnectTimeoutMs,
    logger,
    onNotify: (namespace, nodeName, runnableAt) =>
      dispatcher.deliver(namespace, nodeName, runnableAt),
    onReady: (publish) => dispatcher.setPublisher(publish),
    // Wake-ups sent while LISTEN was down are lost: every local long-poll claims again.
    onResync: () => dispatcher.wakeAll(),
  });
}
