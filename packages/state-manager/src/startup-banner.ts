/**
 * What a person starting the server needs to read first: where the API, its docs and the
 * dashboard are, and, while it is the built-in development key, the key to use.
 */
import { type Config, DEV_API_KEY } from "./config.js";

export interface BannerUrls {
  /** Where the API listens, `http://host:port`. */
  readonly api: string;
  /** Whether this server serves a dashboard at `/`. */
  readonly hasDashboard: boolean;
  /** `/metrics` without a key (METRICS_PORT), if served. */
  readonly metrics?: string | undefined;
}

/** The start-up lines, one fact each (logged at info, one line per event). */
export function startupBanner(config: Config, urls: BannerUrls): string[] {
  // 0.0.0.0 and :: are where the server listens, not an address a browser can open.
  const base = urls.api.replace(/\/\/(0\.0\.0\.0|\[::\])(?=:)/, "//localhost");
  const lines = [
    `Exosphere state manager (${config.mode}, ${config.database.kind}) listening`,
    `API:       ${base}/v0/...`,
    `API docs:  ${base}/docs`,
  ];
  if (urls.hasDashboard) lines.push(`Dashboard: ${base}/`);
  lines.push(
    urls.metrics
      ? `Metrics:   ${base}/metrics (with the key), ${urls.metrics}/metrics (no key)`
      : `Metrics:   ${base}/metrics (with the key)`,
  );
  if (config.apiKey === DEV_API_KEY) {
    lines.push(
      `API key:   ${DEV_API_KEY} (the development default: send it as x-api-key; set STATE_MANAGER_SECRET before exposing this server)`,
    );
  }
  return lines;
}
