import type { Connection } from "./config.js";
import { StateManagerConnectionError, StateManagerError } from "./errors.js";

/** Per-request settings. */
export interface RequestOptions {
  /** Give up after this many ms (a {@link StateManagerConnectionError} with code REQUEST_TIMEOUT). */
  timeoutMs?: number;
  /** Abort from outside (stop of the runtime); rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Thin JSON-over-fetch client of one namespace of a state manager; runs in Node and in browsers
 * (the Node-only long-poll is {@link NodeHttpClient}). Turns every non-2xx answer into
 * a {@link StateManagerError} and every transport failure into a {@link StateManagerConnectionError}.
 */
export class HttpClient {
  readonly #connection: Connection;
  readonly #namespace: string;
  readonly #defaultTimeoutMs: number;

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

  /** Where and how this client connects. */
  get connection(): Connection {
    return this.#connection;
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
        headers: {
          accept: "text/event-stream",
          ...(this.#connection.key === undefined ? {} : { "x-api-key": this.#connection.key }),
          ...headers,
        },
        ...(signal && { signal }),
        ...(this.#connection.key === undefined ? { credentials: "include" as const } : {}),
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
    const headers: Record<string, string> = { accept: "application/json" };
    const key = this.#connection.key;
    if (key !== undefined) {
      headers["x-api-key"] = key;
    }
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
        // Without a key, the session cookie authenticates (also when the page and the API are
        // on different origins listed in the server's CORS_ORIGINS).
        ...(key === undefined ? { credentials: "include" as const } : {}),
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
}

/** Turn an answer into its JSON body, or the {@link StateManagerError} it stands for. */
export function parseAnswer<T>(status: number, text: string, method: string, path: string): T {
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
