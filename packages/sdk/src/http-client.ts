import { Agent as HttpAgent, type ClientRequest, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

import type { Connection } from "./config.js";
import { StateManagerConnectionError, StateManagerError } from "./errors.js";

/** Per-request settings. */
export interface RequestOptions {
  /** Give up after this many ms (a {@link StateManagerConnectionError} with code REQUEST_TIMEOUT). */
  timeoutMs?: number;
  /** Abort from outside (stop of the runtime); rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Settings of {@link HttpClient.postReleasable}. */
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
 * Thin JSON-over-fetch client of one namespace of a state manager. Turns every non-2xx answer into
 * a {@link StateManagerError} and every transport failure into a {@link StateManagerConnectionError}.
 */
export class HttpClient {
  readonly #connection: Connection;
  readonly #namespace: string;
  readonly #defaultTimeoutMs: number;
  #agent: HttpAgent | undefined;

  constructor(connection: Connection, namespace: string, defaultTimeoutMs: number) {
    this.#connection = connection;
    this.#namespace = namespace;
    this.#defaultTimeoutMs = defaultTimeoutMs;
  }

  /** `/v0/namespace/{ns}` + `path`, with the namespace URL-encoded. */
  namespacePath(path: string): string {
    return `/v0/namespace/${encodeURIComponent(this.#namespace)}${path}`;
  }

  get baseUri(): string {
    return this.#connection.uri;
  }

  /**
   * Opens a streaming GET (`text/event-stream`): the response with its body unread. Transport
   * failures are {@link StateManagerConnectionError}s; the caller reads or cancels the body.
   */
  async openStream(
    path: string,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const url = `${this.#connection.uri}${path}`;
    try {
      return await fetch(url, {
        headers: { accept: "text/event-stream", "x-api-key": this.#connection.key, ...headers },
        ...(signal && { signal }),
      });
    } catch (err) {
      if (signal?.aborted) {
        throw signal.reason instanceof Error ? signal.reason : new Error("aborted", { cause: err });
      }
      throw new StateManagerConnectionError({
        method: "GET",
        path,
        url,
        timedOut: false,
        cause: err,
      });
    }
  }

  /** The {@link StateManagerError} a non-2xx answer stands for (its body already read). */
  errorOf(status: number, text: string, method: string, path: string): unknown {
    try {
      parseAnswer(status, text, method, path);
    } catch (err) {
      return err;
    }
    return new Error(`${method} ${path} answered ${status}`);
  }

  async request<T>(
    method: "GET" | "POST" | "PUT" | "DELETE",
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<T> {
    const url = `${this.#connection.uri}${path}`;
    const timeoutMs = options.timeoutMs ?? this.#defaultTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = {
      accept: "application/json",
      "x-api-key": this.#connection.key,
    };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
    }

    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal,
      });
      text = await response.text();
    } catch (err) {
      if (options.signal?.aborted) {
        throw options.signal.reason instanceof Error
          ? options.signal.reason
          : new Error("aborted", { cause: err });
      }
      throw new StateManagerConnectionError({
        method,
        path,
        url,
        timedOut: timeout.aborted,
        cause: err,
      });
    }

    return parseAnswer<T>(response.status, text, method, path);
  }

  /**
   * POST a JSON body over `node:http(s)`, for the claim long-poll. Unlike `fetch`, it can end a
   * wait without dropping an answer in flight: aborting `release` half-closes the connection,
   * which the state manager takes as "client gone" (it answers at once and gives back whatever
   * it claims from then on), while whatever it had already written still reaches us. Aborting
   * the request instead would discard an answer carrying claimed states, and those states would
   * stay claimed by nobody until their lease expired.
   */
  postReleasable<T>(path: string, body: unknown, options: ReleasableRequestOptions): Promise<T> {
    const url = new URL(`${this.#connection.uri}${path}`);
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
          "x-api-key": this.#connection.key,
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

  /** Close idle keep-alive connections of {@link HttpClient.postReleasable}. */
  close(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }
}

/** Turn an answer into its JSON body, or the {@link StateManagerError} it stands for. */
function parseAnswer<T>(status: number, text: string, method: string, path: string): T {
  const parsed = parseJson(text);
  if (status < 200 || status >= 300) {
    const errorBody = (
      parsed.ok && typeof parsed.value === "object" && parsed.value !== null ? parsed.value : {}
    ) as {
      detail?: unknown;
      code?: unknown;
      context?: unknown;
    };
    const detail = errorBody.detail ?? (parsed.ok ? parsed.value : text.slice(0, 500));
    const context = errorBody.context;
    throw new StateManagerError({
      status,
      code:
        typeof errorBody.code === "string" && errorBody.code !== ""
          ? errorBody.code
          : `HTTP_${status}`,
      detail,
      method,
      path,
      ...(typeof context === "object" && context !== null && !Array.isArray(context)
        ? { context: context as Record<string, unknown> }
        : {}),
    });
  }
  if (!parsed.ok) {
    throw new StateManagerError({
      status,
      code: "INVALID_RESPONSE",
      detail: `expected a JSON body, got: ${text.slice(0, 200)}`,
      method,
      path,
    });
  }
  return parsed.value as T;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text === "") {
    return { ok: true, value: {} };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * True for failures worth retrying: transport errors, timeouts, 408, 429 and 5xx.
 */
export function isTransientError(err: unknown): boolean {
  if (err instanceof StateManagerConnectionError) {
    return true;
  }
  if (err instanceof StateManagerError) {
    return err.status === 408 || err.status === 429 || err.status >= 500;
  }
  // Another copy of the SDK, or something thrown by fetch itself.
  const code = (err as { code?: unknown } | null)?.code;
  return code === "CONNECTION_FAILED" || code === "REQUEST_TIMEOUT";
}

/** HTTP status of a state manager error, when `err` is one. */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}
