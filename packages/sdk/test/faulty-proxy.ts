import {
  createServer,
  type IncomingMessage,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

// A network fault between a runtime and the real state manager: forwards every request, except
// that those matching `failing` get a 503 without reaching the server (a dead replica behind a
// load balancer, a partition that swallows some routes). Not a stand-in for our server: what
// passes is answered by the real one.

/** One request as seen by the proxy. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly failed: boolean;
}

export class FaultyProxy {
  readonly requests: ProxiedRequest[] = [];
  /** Requests for which this returns true are answered 503 here. */
  failing: (method: string, path: string) => boolean = () => false;
  url = "";
  readonly #upstream: URL;
  #server: Server | undefined;

  constructor(upstream: string) {
    this.#upstream = new URL(upstream);
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => this.#forward(req, res));
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
  calls(suffix: string): ProxiedRequest[] {
    return this.requests.filter((request) => request.path.endsWith(suffix));
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    const failed = this.failing(method, path);
    this.requests.push({ method, path, failed });
    if (failed) {
      req.resume();
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ detail: "replica unavailable (injected by the test proxy)" }));
      return;
    }
    const upstream = httpRequest(
      {
        host: this.#upstream.hostname,
        port: this.#upstream.port,
        method,
        path,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    // A client that leaves (a released long-poll) leaves upstream too.
    res.on("close", () => {
      if (!res.writableEnded) {
        upstream.destroy();
      }
    });
    req.pipe(upstream);
  }
}
