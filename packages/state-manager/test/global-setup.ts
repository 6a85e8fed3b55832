/**
 * Starts one PostgreSQL cluster for the whole run (unless TEST_DATABASE_URL is given); each test
 * file then creates its own database on it. With CI=true a missing PostgreSQL fails the run.
 */
import type { TestProject } from "vitest/node";
import {
  findPostgresBin,
  type PostgresCluster,
  startPostgresCluster,
} from "./helpers/postgres-cluster.js";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string | null;
  }
}

let cluster: PostgresCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
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
