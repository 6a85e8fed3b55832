/** Option values as the commands take them, checked before anything is sent. */
import { RunStatus, StateStatus } from "exospherehost";
import { z } from "zod";

import { UsageError } from "./cli-error.js";
import { describeIssues } from "./config.js";

/** A positive integer option (`--limit 20`). */
export const positiveInt = z
  .string()
  .regex(/^\d+$/, "must be a whole number")
  .transform(Number)
  .pipe(z.number().int().min(1));

/** A non-negative integer option (`--start-delay 0`). */
export const nonNegativeInt = z
  .string()
  .regex(/^\d+$/, "must be a whole number")
  .transform(Number)
  .pipe(z.number().int().min(0));

/** A port number (`--port 8000`; 0 lets the system choose). */
export const port = nonNegativeInt.pipe(z.number().max(65535));

/** One of the run statuses. */
export const runStatus = z.enum(RunStatus);

/** One of the state statuses. */
export const stateStatus = z.enum(StateStatus);

/** Repeated `key=value` options as an object; a repeated key keeps its last value. */
export const keyValues = z.array(z.string()).transform((pairs, ctx) => {
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) {
      ctx.addIssue({ code: "custom", message: `"${pair}" is not key=value` });
      return z.NEVER;
    }
    values[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return values;
});

/**
 * Parse the options of a command with `schema`; a problem is a {@link UsageError} naming the
 * option, as `--flag: message`.
 */
export function parseOptions<T extends z.ZodType>(schema: T, raw: unknown): z.output<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const [first] = issue.path;
      const name = typeof first === "string" ? `--${kebab(first)}` : "option";
      return `${name}: ${issue.message}`;
    });
    throw new UsageError(issues.join("; ") || describeIssues(parsed.error));
  }
  return parsed.data;
}

/** Collect a repeatable option's values (commander's argParser). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
