import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// A scripted stand-in for a state manager, used only for behaviour the real server cannot show on
// demand: the original Python server's lack of long-poll, 5xx bursts, lease answers on cue. Every
// end-to-end behaviour is tested against the real server in the other files of this folder.

/** One request as received. */
export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  at: number;
}

/** A state to hand out on enqueue. */
export interface ScriptedState {
  state_id: string;
  node_name: string;
  identifier?: string;
  inputs: Record<string, unknown>;
  lease_expires_at?: number;
}

/** An answer, or `"drop"` to close the connection without answering (a network error). */
export type Responder = (
  request: RecordedRequest,
) => { status: number; body: unknown } | "drop" | undefined;

export class ScriptedStateManager {
  readonly requests: RecordedRequest[] = [];
  /** States handed out by the next enqueue calls, in order. */
  readonly queue: ScriptedState[] = [];
  /** Consulted first; return undefined to fall through to the default behaviour. */
  responder: Responder | undefined;
  secrets: Record<string, string> = {};
  #server: Server | undefined;
  url = "";

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server?.listen(0, "127.0.0.1", resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }

  /** Requests whose path ends with `suffix`. */
  calls(suffix: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path.endsWith(suffix));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    const request: RecordedRequest = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      body: text === "" ? undefined : (JSON.parse(text) as unknown),
      at: Date.now(),
    };
    this.requests.push(request);
    const answer = this.responder?.(request) ?? this.#default(request);
    if (answer === "drop") {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(JSON.stringify(answer.body));
  }

  #default(request: RecordedRequest): { status: number; body: unknown } {
    const { path } = request;
    if (path.endsWith("/nodes/")) {
      const body = request.body as { runtime_name: string; nodes: unknown[] };
      return {
        status: 200,
        body: { runtime_name: body.runtime_name, registered_nodes: body.nodes },
      };
    }
    if (path.endsWith("/states/enqueue")) {
      // Like the original server: ignores wait_ms and answers at once.
      const { batch_size: batchSize } = request.body as { batch_size: number };
      const states = this.queue.splice(0, batchSize);
      return {
        status: 200,
        body: { count: states.length, namespace: "ns", status: "QUEUED", states },
      };
    }
    if (path.endsWith("/secrets")) {
      return { status: 200, body: { secrets: this.secrets } };
    }
    if (path.endsWith("/executed")) {
      return { status: 200, body: { status: "EXECUTED" } };
    }
    if (path.endsWith("/errored")) {
      return { status: 200, body: { status: "ERRORED", retry_created: false } };
    }
    if (path.endsWith("/prune")) {
      return { status: 200, body: { status: "PRUNED", enqueue_after: Date.now() } };
    }
    if (path.endsWith("/re-enqueue-after")) {
      return { status: 200, body: { status: "CREATED", enqueue_after: Date.now() } };
    }
    if (path.endsWith("/heartbeat")) {
      return { status: 200, body: { status: "QUEUED", lease_expires_at: Date.now() + 60_000 } };
    }
    return { status: 404, body: { detail: "Not Found" } };
  }
}
