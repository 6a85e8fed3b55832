import { Agent as HttpAgent, type ClientRequest, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

import { StateManagerConnectionError } from "./errors.js";
import { HttpClient, parseAnswer } from "./http-client.js";

/** Settings of {@link NodeHttpClient.postReleasable}. */
export interface ReleasableRequestOptions {
  /** Give up after this many ms (a {@link StateManagerConnectionError} with code REQUEST_TIMEOUT). */
  timeoutMs: number;
  /**
   * When aborted, tell the server we are leaving (close our side of the connection) but keep
   * reading: an answer the server had already sent still arrives and is returned.
   */
  release: AbortSignal;
  /** When aborted, drop the connection at once; rejects with the signal's reason. */
  abort: AbortSignal;
}

/**
 * The runtime's client: {@link HttpClient} plus the claim long-poll over `node:http(s)`, kept
 * apart so that the browser path of the SDK (the {@link StateManager} client) imports no Node
 * module.
 */
export class NodeHttpClient extends HttpClient {
  #agent: HttpAgent | undefined;

  /**
   * POST a JSON body over `node:http(s)`, for the claim long-poll. Unlike `fetch`, it can end a
   * wait without dropping an answer in flight: aborting `release` half-closes the connection,
   * which the state manager takes as "client gone" (it answers at once and gives back whatever
   * it claims from then on), while whatever it had already written still reaches us. Aborting
   * the request instead would discard an answer carrying claimed states, and those states would
   * stay claimed by nobody until their lease expired.
   */
  postReleasable<T>(path: string, body: unknown, options: ReleasableRequestOptions): Promise<T> {
    const url = new URL(`${this.connection.uri}${path}`);
    const payload = JSON.stringify(body);
    const isHttps = url.protocol === "https:";
    this.#agent ??= isHttps
      ? new HttpsAgent({ keepAlive: true, maxSockets: 4 })
      : new HttpAgent({ keepAlive: true, maxSockets: 4 });
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let released = false;
      const cleanups: (() => void)[] = [];
      const finish = (outcome: () => void): void => {
        if (settled) {
          return;
        }
        settled = true;
        for (const cleanup of cleanups) {
          cleanup();
        }
        outcome();
      };
      const request: ClientRequest = (isHttps ? httpsRequest : httpRequest)(url, {
        method: "POST",
        agent: this.#agent,
        headers: {
          accept: "application/json",
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(payload)),
          ...(this.connection.key === undefined ? {} : { "x-api-key": this.connection.key }),
        },
      });
      const fail = (err: unknown, timedOut = false): void =>
        finish(() =>
          reject(
            new StateManagerConnectionError({
              method: "POST",
              path,
              url: url.toString(),
              timedOut,
              cause: err,
            }),
          ),
        );
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", fail);
        response.on("aborted", () => fail(new Error("the answer was cut off")));
        response.on("end", () => {
          if (released) {
            // Half-closed: never hand this connection to another request.
            request.socket?.destroy();
          }
          const text = Buffer.concat(chunks).toString("utf8");
          finish(() => {
            try {
              resolve(parseAnswer<T>(response.statusCode ?? 0, text, "POST", path));
            } catch (err) {
              reject(err);
            }
          });
        });
      });
      request.on("error", (err) => fail(err));

      const onRelease = (): void => {
        released = true;
        const halfClose = (): void => {
          request.socket?.end();
        };
        // Our side ends only after the whole request went out, so the server reads all of it.
        if (request.writableFinished && request.socket) {
          halfClose();
        } else {
          request.once("finish", halfClose);
        }
      };
      const onAbort = (): void => {
        request.destroy();
        const reason: unknown = options.abort.reason;
        finish(() => reject(reason instanceof Error ? reason : new Error("aborted")));
      };
      const timer = setTimeout(() => {
        request.destroy();
        fail(new Error("timed out"), true);
      }, options.timeoutMs);
      cleanups.push(() => clearTimeout(timer));
      if (options.abort.aborted) {
        onAbort();
        return;
      }
      options.abort.addEventListener("abort", onAbort, { once: true });
      cleanups.push(() => options.abort.removeEventListener("abort", onAbort));
      if (options.release.aborted) {
        onRelease();
      } else {
        options.release.addEventListener("abort", onRelease, { once: true });
        cleanups.push(() => options.release.removeEventListener("abort", onRelease));
      }
      request.end(payload);
    });
  }

  /** Close idle keep-alive connections of {@link NodeHttpClient.postReleasable}. */
  close(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }
}
