/**
 * Starts one PostgreSQL cluster for the whole run (unless TEST_DATABASE_URL is given); each test
 * file then creates its own database on it. MongoDB: TEST_MONGO_URI (a real replica set), or
 * the jongodb test server, one process per test database (helpers/mongo-server.ts). With
 * CI=true a missing PostgreSQL or MongoDB fails the run.
 */
import type { TestProject } from "vitest/node";
import {
  findPostgresBin,
  type PostgresCluster,
  startPostgresCluster,
} from "./helpers/postgres-cluster.js";
import { findJongodb } from "./helpers/mongo-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string | null;
    /** A MongoDB replica set's URI, "jongodb" (start the test server per database), or null. */
    mongo: string | null;
  }
}

let cluster: PostgresCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  const mongoUri = process.env["TEST_MONGO_URI"];
  if (mongoUri) project.provide("mongo", mongoUri);
  else if (findJongodb()) project.provide("mongo", "jongodb");
  else if (process.env["CI"] === "true") {
    throw new Error(
      "CI=true but the jongodb test server (@jongodb/memory-server-bin-linux-x64-gnu) is not installed and TEST_MONGO_URI is not set",
    );
  } else project.provide("mongo", null);
  const given = process.env["TEST_DATABASE_URL"];
  if (given) {
    project.provide("postgresUrl", given);
    return;
  }
  if (!findPostgresBin()) {
    if (process.env["CI"] === "true") {
      throw new Error(
        "CI=true but no PostgreSQL server binaries were found and TEST_DATABASE_URL is not set",
      );
    }
    project.provide("postgresUrl", null);
    return;
  }
  cluster = await startPostgresCluster();
  project.provide("postgresUrl", cluster.url);
}

export function teardown(): void {
  cluster?.stop();
}
