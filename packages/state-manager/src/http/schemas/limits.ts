/**
 * Fixed bounds of the wire model: every array and every map a client sends has one, so no
 * request can make the server walk, store or echo an unbounded amount (docs/config.md lists
 * them beside the configurable ones: MAX_BODY_BYTES, MAX_JSON_DEPTH, MAX_FANOUT,
 * MAX_BATCH_SIZE, MAX_PAGE_SIZE).
 */
export const LIMITS = {
  /** Namespace, graph, node and runtime names, identifiers. */
  nameLength: 128,
  /** Nodes in one registration (E2). */
  nodesPerRegistration: 1000,
  /** Secret names one registered node declares. */
  secretsPerNode: 100,
  /** Nodes in one graph template (E4). */
  nodesPerGraph: 10_000,
  /** `next_nodes` of one template node. */
  nextNodesPerNode: 1000,
  /** Inputs of one template node, and `inputs` of a trigger. */
  inputsPerNode: 1000,
  /** Secrets of one graph. */
  secretsPerGraph: 1000,
  /** Keys in `store_config.required_keys`, `default_values`, and a trigger's `store`. */
  storeKeys: 1000,
  /** Cron triggers of one graph. */
  triggersPerGraph: 100,
  /** Node names in one claim (E8). */
  nodesPerClaim: 1000,
  /** Reports in one batch request. */
  reportsPerBatch: 1000,
  /** Runs in one batch trigger. */
  runsPerTrigger: 1000,
  /** Characters of an `errored` report's error text. */
  errorLength: 64 * 1024,
  /** Characters of a secret name or a cron expression. */
  shortText: 256,
} as const;
