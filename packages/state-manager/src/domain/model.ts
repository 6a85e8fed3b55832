/**
 * The entities the state manager keeps: registered nodes, graph templates and their versions,
 * runs, states and join memberships. Plain data; every store reads and writes exactly these.
 */
import type { CronTrigger, NodeTemplate, StoreConfig } from "./graph.js";
import type { RetryPolicy } from "./retry.js";
import type { JoinOutcome, RunStatus, StateStatus } from "./statuses.js";

export interface RegisteredNode {
  id: string;
  namespace: string;
  name: string;
  runtime_name: string;
  runtime_namespace: string;
  inputs_schema: unknown;
  outputs_schema: unknown;
  secrets: string[];
  created_at: number;
  updated_at: number;
}

/** What a runtime sends to register a node (E2), before the store adds ids and dates. */
export type NodeRegistration = Omit<RegisteredNode, "created_at" | "updated_at" | "id">;

/** One stored version of a graph template. Versions never change once stored. */
export interface GraphVersion {
  namespace: string;
  name: string;
  version: number;
  nodes: NodeTemplate[];
  /** Secret name → AES-GCM ciphertext. */
  secrets: Record<string, string>;
  retry_policy: RetryPolicy;
  store_config: StoreConfig;
  triggers: CronTrigger[];
  validation_status: "VALID" | "INVALID";
  validation_errors: string[];
  created_at: number;
}

/** A graph version to store: the store numbers it and dates it. */
export type NewGraphVersion = Omit<GraphVersion, "version" | "created_at">;

/** A graph template as clients see it: its current version plus the template's own dates. */
export interface Graph extends GraphVersion {
  graph_created_at: number;
  graph_updated_at: number;
}

export interface Run {
  run_id: string;
  namespace: string;
  graph_name: string;
  graph_version: number;
  status: RunStatus;
  /** `api`, or `cron:<expression>` for a run a cron trigger started. */
  origin: string;
  created_at: number;
  /** When a state of the run was first claimed. */
  started_at: number | null;
  finished_at: number | null;
}

/** One fired instant of a cron trigger (see domain/cron-fire.ts). */
export interface CronFire {
  namespace: string;
  graph_name: string;
  expression: string;
  /** The scheduled instant (epoch ms) this fire claimed. */
  instant: number;
  fired_at: number;
  /** The run stands for several instants missed while no server ran (`missed` were skipped). */
  catch_up: boolean;
  missed: number;
  /** The run it started; null when it could not start one (then `error` says why). */
  run_id: string | null;
  error: string | null;
}

/** A cron trigger of a live graph as scheduled: since when, and its newest fire. */
export interface CronTriggerSchedule {
  namespace: string;
  graph_name: string;
  expression: string;
  /** When the trigger was added: no instant at or before it fires. */
  since: number;
  /** Whether the graph's current version is VALID (only valid graphs fire). */
  is_valid: boolean;
  last_fire: CronFire | null;
}

/** Ordered `[identifier, state id]` pairs: every ancestor, the direct parent last. */
export type Parents = [string, string][];

export interface State {
  /** Insertion order; ties in `enqueue_after` are claimed by it. */
  seq: number;
  id: string;
  namespace: string;
  node_name: string;
  identifier: string;
  graph_name: string;
  graph_version: number;
  run_id: string;
  status: StateStatus;
  inputs: Record<string, string>;
  outputs: Record<string, unknown>;
  data: Record<string, unknown>;
  error: string | null;
  /** The stack trace the runtime sent with its `errored` report, if any (bounded). */
  error_stack: string | null;
  parents: Parents;
  direct_parent: string | null;
  does_unites: boolean;
  /** `<unite identifier>:<target state id>` on the one state a join creates, else null. */
  unite_key: string | null;
  /**
   * For each fan-out among this state's ancestors (and the state itself, if it is a fan-out
   * sibling): identifier → the state that reported the fan-out (its first output). A join over
   * a node that fanned out groups by that state, so it waits for every output's branch.
   */
  join_heads: Record<string, string>;
  enqueue_after: number;
  retry_count: number;
  fanout_id: string;
  manual_retry_fanout_id: string;
  retry_of: string | null;
  claimed_at: number | null;
  lease_expires_at: number | null;
  claimed_by: string | null;
  created_at: number;
  updated_at: number;
}

/** A state about to be inserted: the store assigns `seq`. */
export type NewState = Omit<State, "seq">;

/** A state's row in one join group (see engine/join-engine.ts). */
export interface JoinMember {
  group_key: string;
  state_id: string;
  run_id: string;
  outcome: JoinOutcome;
}

/** Where new ids come from. Injected, so domain functions stay free of randomness. */
export interface IdSource {
  /** A 24-hex ObjectId-shaped id whose first 4 bytes are `nowMs` in seconds. */
  objectId(nowMs: number): string;
  /** A fresh UUID; the server's are time-ordered UUIDv7s (see engine/ids.ts). */
  uuid(): string;
}

export const OBJECT_ID_PATTERN = /^[0-9a-f]{24}$/;

export function isObjectId(value: string): boolean {
  return OBJECT_ID_PATTERN.test(value);
}
