/** A minimal Server-Sent Events client over fetch, for tests: frames as they arrive. */
export interface SseFrame {
  readonly id?: string;
  readonly event: string;
  readonly data: string;
}

export interface SseClient {
  readonly status: number;
  readonly headers: Headers;
  /** Frames received so far (comments are not frames). */
  readonly frames: SseFrame[];
  /** Resolves when the server ends the stream (or it is aborted). */
  readonly ended: Promise<void>;
  /** Waits until `predicate` holds over the frames, or fails after `timeoutMs`. */
  waitFor(predicate: (frames: SseFrame[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function openSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<SseClient> {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  const frames: SseFrame[] = [];
  const listeners = new Set<() => void>();
  let done = false;
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let at: number;
        while ((at = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          let id: string | undefined;
          let event = "message";
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith(":") || line === "") continue;
            const colon = line.indexOf(":");
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "id") id = value;
            else if (field === "event") event = value;
            else if (field === "data") data.push(value);
          }
          if (data.length > 0) {
            frames.push({ ...(id !== undefined && { id }), event, data: data.join("\n") });
            for (const listener of listeners) listener();
          }
        }
      }
    } catch {
      // aborted
    } finally {
      done = true;
      for (const listener of listeners) listener();
    }
  })();
  return {
    status: res.status,
    headers: res.headers,
    frames,
    ended,
    waitFor(predicate, timeoutMs = 10_000) {
      if (predicate(frames)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`SSE: condition not met in ${timeoutMs} ms (${frames.length} frames)`));
        }, timeoutMs);
        const check = () => {
          if (predicate(frames)) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve();
          } else if (done) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(
              new Error(`SSE: stream ended before the condition held (${frames.length} frames)`),
            );
          }
        };
        listeners.add(check);
      });
    },
    close() {
      controller.abort();
    },
  };
}
