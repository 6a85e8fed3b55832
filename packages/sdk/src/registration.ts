import type { HttpClient } from "./http-client.js";
import { isTransientError } from "./http-client.js";
import { toRegistration } from "./node-definition.js";
import type { RegisterNodesRequest } from "./protocol/wire.js";
import { retry } from "./retry.js";
import { describeError, logFailure } from "./runtime-logging.js";
import type { RuntimeOptionsWithDefaults } from "./runtime-options.js";

/**
 * Register a runtime's nodes (`PUT /v0/namespace/{ns}/nodes/`): their inputs and outputs JSON
 * Schemas and secret names. An unreachable state manager is retried with backoff until `stop`
 * aborts; a refusal (a 4xx: wrong key, invalid schemas) ends it at once and is logged.
 */
export async function registerNodes(
  options: RuntimeOptionsWithDefaults,
  http: HttpClient,
  stop: AbortSignal,
): Promise<{ ok: true } | { ok: false; error: unknown }> {
  const { logger, clock, name, namespace } = options;
  const body: RegisterNodesRequest = {
    runtime_name: name,
    runtime_namespace: namespace,
    nodes: [...options.nodes.values()].map((definition) => toRegistration(definition, namespace)),
  };
  const path = http.namespacePath("/nodes/");
  const result = await retry(() => http.request("PUT", path, body, { signal: stop }), {
    clock,
    backoff: { baseMs: 250, maxMs: 10_000 },
    signal: stop,
    isRetryable: isTransientError,
    onRetry: ({ attempt, delayMs, error }) =>
      logFailure(logger, attempt, "state manager unreachable while registering; retrying", {
        runtime: name,
        retryInMs: delayMs,
        error: describeError(error),
      }),
  });
  if (result.ok) {
    return { ok: true };
  }
  if (result.reason === "refused") {
    logger.error("node registration refused", {
      runtime: name,
      error: describeError(result.error),
    });
  }
  return { ok: false, error: result.error };
}
