import { waitFor } from "@exosphere/test-utils";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, type LogMeta } from "../src/index.js";
import { FaultyProxy } from "./faulty-proxy.js";
import {
  DIALECTS,
  postgresAvailable,
  startInBackground,
  testLogger,
  uniqueNamespace,
  useStateManager,
} from "./helpers.js";

// A runtime whose reports cannot reach the state manager (the replica it reports to is gone, its
// heartbeats too) while claims still succeed: it must stop claiming rather than run work whose
// result it cannot deliver, retry the reports until their states' leases would expire, then drop
// them with one log line each time, and carry on once the state manager is reachable again.

const LEASE_MS = 2_000;
const RUNS = 6;

const executions: string[] = [];

class Work extends BaseNode.define({
  inputs: z.object({ n: z.string() }),
  outputs: z.object({ n: z.string() }),
}) {
  async execute() {
    executions.push(this.context.stateId);
    return { n: this.inputs.n };
  }
}

const REPORT_PATHS = ["/states/report", "/executed", "/errored", "/heartbeat"];

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === "postgres" && !postgresAvailable())(
    `a runtime that cannot report (${dialect})`,
    () => {
      const { server, runtime, client } = useStateManager({ dialect });
      let proxy: FaultyProxy | undefined;
      afterEach(async () => {
        await proxy?.stop();
      });

      it("stops claiming, drops its reports at the lease with one log line, and recovers", async () => {
        proxy = await new FaultyProxy(server().url).start();
        const drops: LogMeta[] = [];
        let claimsWhenFailureSeen: number | undefined;
        const live = proxy;
        const claimsSoFar = (): number => live.calls("/states/enqueue").length;
        const logger = {
          ...testLogger,
          warn: (message: string, meta?: LogMeta) => {
            testLogger.warn(message, meta);
            // The runtime knows from here on that its reports fail.
            if (/^reporting .*failed; retrying/.test(message)) {
              claimsWhenFailureSeen ??= claimsSoFar();
            }
          },
          error: (message: string, meta?: LogMeta) => {
            testLogger.error(message, meta);
            if (/^dropped .*report/.test(message)) {
              drops.push(meta ?? {});
            }
          },
        };
        const namespace = uniqueNamespace("unreportable");
        const sm = client(namespace);
        await startInBackground(
          runtime({
            namespace,
            name: "rt",
            nodes: [Work],
            workers: 2,
            batchSize: 2,
            leaseMs: LEASE_MS,
            stateManagerUri: proxy.url,
            logger,
          }),
        );
        await sm.upsertGraph("g", {
          nodes: [{ node_name: "Work", namespace, identifier: "w", inputs: { n: "initial" } }],
          secrets: {},
        });
        const reportsFail = (_method: string, path: string): boolean =>
          REPORT_PATHS.some((suffix) => path.endsWith(suffix));
        proxy.failing = reportsFail;
        const runIds = await Promise.all(
          Array.from({ length: RUNS }, async (_, i) => {
            const { run_id } = await sm.trigger("g", { inputs: { n: String(i) } });
            return run_id;
          }),
        );

        await waitFor(() => drops.length > 0, { timeoutMs: 15_000, message: "a drop was logged" });
        // From the first failed report to the drop, no claim but those already in flight: the
        // one waiting, and one a worker may have started when its execute() returned, before
        // the report that then failed (a worker is free as soon as execute() returns).
        expect(claimsWhenFailureSeen).toBeDefined();
        expect(claimsSoFar() - (claimsWhenFailureSeen ?? 0)).toBeLessThanOrEqual(2);

        // The state manager is reachable again: every run finishes (the dropped states come back
        // after their lease, as a retry) and no more reports are dropped.
        proxy.failing = () => false;
        const results = await Promise.all(
          runIds.map((runId) => sm.waitForRun(runId, { timeoutMs: 30_000 })),
        );
        expect(results.map((result) => result.status)).toEqual(Array(RUNS).fill("SUCCESS"));

        // Each dropped report is named in exactly one log line.
        const dropped = drops.flatMap((meta) =>
          Array.isArray(meta.stateIds) ? (meta.stateIds as string[]) : [String(meta.stateId)],
        );
        expect(dropped.length).toBeGreaterThan(0);
        expect(new Set(dropped).size).toBe(dropped.length);
        for (const stateId of dropped) {
          expect(executions).toContain(stateId);
        }
      }, 60_000);
    },
  );
}
