// When does the state manager confirm that a state is complete? The SDK Runtime reports outcomes
// asynchronously (batched, a few ms after `execute()` returns) and exposes no hook for it, and the
// HTTP API has no cheap "how many states are done" count. So the benchmark watches the runtime's
// own report requests: it wraps the global `fetch` (what the SDK's HTTP client calls) and counts,
// per namespace, the reports whose request the server answered with a 2xx: one per
// `POST .../state/{id}/executed`, one per item of `POST .../states/report`.
//
// Counting costs a string scan of the request body; the response is not read twice. A report the
// server refuses inside a 200 batch still counts here, but then the run does not end SUCCESS and
// the trial's final check fails. If the SDK stops using the global fetch, nothing is counted and
// the Exosphere driver falls back to polling the runs (and says so in its output).
import { now } from "./util.mjs";

const REPORT_PATH = /\/v0\/namespace\/([^/]+)\/(?:states\/report|state\/[^/]+\/executed)$/;

const byNamespace = new Map();
let installed = false;

function entry(ns) {
  let e = byNamespace.get(ns);
  if (!e) {
    e = { count: 0, requests: 0, waiters: [] };
    byNamespace.set(ns, e);
  }
  return e;
}

function countReports(body) {
  if (typeof body !== "string") return 1;
  let count = 0;
  for (let i = body.indexOf('"state_id"'); i !== -1; i = body.indexOf('"state_id"', i + 10)) {
    count++;
  }
  return Math.max(1, count);
}

/** Wraps the global fetch once (idempotent). */
export function installReportAcks() {
  if (installed) return;
  installed = true;
  const original = globalThis.fetch;
  globalThis.fetch = async function benchFetch(input, init) {
    const response = await original(input, init);
    if (response.ok && init?.method === "POST") {
      const url = typeof input === "string" ? input : String(input?.url ?? input);
      const match = REPORT_PATH.exec(new URL(url).pathname);
      if (match) {
        const e = entry(decodeURIComponent(match[1]));
        e.count += countReports(init.body);
        e.requests++;
        if (e.waiters.length > 0) {
          const at = now();
          e.waiters = e.waiters.filter((w) => {
            if (e.count < w.count) return true;
            w.resolve(at);
            return false;
          });
        }
      }
    }
    return response;
  };
}

/** Reports of `ns` acknowledged so far. */
export const acknowledged = (ns) => entry(ns).count;

/**
 * The runtime's report requests for `ns` so far (2xx answers only) and the reports they carried.
 * (Its claims are long-polls over `node:http`, not `fetch`: they are not seen here.)
 */
export function requestCounts(ns) {
  const e = entry(ns);
  return { reportRequests: e.requests, reports: e.count };
}

/** Resolves with the time at which `count` reports of `ns` had been acknowledged. */
export function whenAcknowledged(ns, count) {
  const e = entry(ns);
  if (e.count >= count) return Promise.resolve(now());
  return new Promise((resolve) => e.waiters.push({ count, resolve }));
}
