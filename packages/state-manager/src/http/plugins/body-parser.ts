/**
 * Request bodies are JSON whatever the Content-Type says (curl users). A zero-length body is no
 * body; anything else must be JSON, and JSON nested deeper than MAX_JSON_DEPTH is refused
 * before it is parsed: a 10 KB body of 5,000 nested arrays would otherwise overflow the stack
 * wherever it is walked later (serialising it for storage, validating it).
 */
import type { FastifyInstance } from "fastify";

/** A body nested deeper than the configured limit. */
export class JsonTooDeepError extends Error {
  readonly code = "JSON_TOO_DEEP" as const;
  constructor(readonly maxDepth: number) {
    super(
      `JSON nests deeper than ${maxDepth} levels; at most ${maxDepth} are allowed (MAX_JSON_DEPTH)`,
    );
    this.name = "JsonTooDeepError";
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether `text` nests arrays and objects more than `maxDepth` deep, by one linear scan that
 * skips string contents (no recursion, no allocation). Malformed JSON is left to JSON.parse.
 */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

export function registerJsonBodies(app: FastifyInstance, maxDepth: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      done(null, undefined);
      return;
    }
    if (nestsDeeperThan(text, maxDepth)) {
      done(new JsonTooDeepError(maxDepth), undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
