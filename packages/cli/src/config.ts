/**
 * Where the CLI finds its state manager: flags, then the profile named by `--profile`, then the
 * environment, then the profile file's default profile, then defaults. The only module of the
 * CLI that reads `process.env` (the rest gets a {@link CliEnvironment}).
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

import { z } from "zod";

import { UsageError } from "./cli-error.js";

/** The state manager `exosphere server start` listens on by default. */
export const DEFAULT_URL = "http://localhost:8000";
/** The key of a state manager started in development mode without `STATE_MANAGER_SECRET`. */
export const DEFAULT_KEY = "exosphere@123";

/** What the CLI reads from its environment, once, at start. */
export interface CliEnvironment {
  /** `EXOSPHERE_STATE_MANAGER_URI`. */
  readonly url: string | undefined;
  /** `EXOSPHERE_API_KEY`. */
  readonly key: string | undefined;
  /** `EXOSPHERE_NAMESPACE`. */
  readonly namespace: string | undefined;
  /**
   * The profile file: `EXOSPHERE_CONFIG`, else `$XDG_CONFIG_HOME/exosphere/config.json`, else
   * `~/.config/exosphere/config.json`.
   */
  readonly configPath: string;
  /** Whether `EXOSPHERE_CONFIG` named the file (then it must exist). */
  readonly isConfigPathExplicit: boolean;
  /** The whole environment, for the processes the CLI starts (`server start`). */
  readonly processEnv: Readonly<Record<string, string | undefined>>;
  /** Working directory, for relative paths. */
  readonly cwd: string;
}

/** Read the environment variables the CLI knows. */
export function readEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): CliEnvironment {
  const explicit = nonEmpty(env.EXOSPHERE_CONFIG);
  const configHome = nonEmpty(env.XDG_CONFIG_HOME) ?? join(homedir(), ".config");
  return Object.freeze({
    url: nonEmpty(env.EXOSPHERE_STATE_MANAGER_URI),
    key: nonEmpty(env.EXOSPHERE_API_KEY),
    namespace: nonEmpty(env.EXOSPHERE_NAMESPACE),
    configPath: explicit ?? join(configHome, "exosphere", "config.json"),
    isConfigPathExplicit: explicit !== undefined,
    processEnv: Object.freeze({ ...env }),
    cwd,
  });
}

const profileSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }).optional(),
    key: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
  })
  .strict();

const configFileSchema = z
  .object({
    /** The profile used when `--profile` is not given. */
    default: z.string().min(1).optional(),
    profiles: z.record(z.string().min(1), profileSchema).default({}),
  })
  .strict();

/** One profile of the profile file. */
export type Profile = z.infer<typeof profileSchema>;

/** The connection flags every command takes. */
export interface ConnectionFlags {
  url?: string | undefined;
  key?: string | undefined;
  namespace?: string | undefined;
  profile?: string | undefined;
}

/** Where and as whom to connect, after every source is applied. */
export interface Connection {
  readonly url: string;
  readonly key: string;
  /** Undefined when no source names one; commands that need it refuse to run. */
  readonly namespace: string | undefined;
}

/** Merge flags, profiles, environment and defaults into one {@link Connection}. */
export function resolveConnection(flags: ConnectionFlags, environment: CliEnvironment): Connection {
  const file = readConfigFile(environment, flags.profile !== undefined);
  let chosen: Profile = {};
  if (flags.profile !== undefined) {
    chosen = profileNamed(file, flags.profile, environment.configPath);
  }
  const fallback: Profile =
    flags.profile === undefined && file?.default !== undefined
      ? profileNamed(file, file.default, environment.configPath)
      : {};
  const url = nonEmpty(flags.url) ?? chosen.url ?? environment.url ?? fallback.url ?? DEFAULT_URL;
  checkUrl(url);
  return Object.freeze({
    url,
    key: nonEmpty(flags.key) ?? chosen.key ?? environment.key ?? fallback.key ?? DEFAULT_KEY,
    namespace:
      nonEmpty(flags.namespace) ?? chosen.namespace ?? environment.namespace ?? fallback.namespace,
  });
}

function readConfigFile(
  environment: CliEnvironment,
  isProfileRequested: boolean,
): z.infer<typeof configFileSchema> | undefined {
  let text: string;
  try {
    text = readFileSync(environment.configPath, "utf8");
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") {
      if (environment.isConfigPathExplicit || isProfileRequested) {
        throw new UsageError(
          `The profile file ${environment.configPath} does not exist. Create it (see docs/cli.md, "Profiles")${environment.isConfigPathExplicit ? " or unset EXOSPHERE_CONFIG" : ", or drop --profile"}.`,
        );
      }
      return undefined;
    }
    throw new UsageError(
      `Cannot read the profile file ${environment.configPath}: ${(err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `The profile file ${environment.configPath} is not JSON: ${(err as Error).message}`,
    );
  }
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(
      `The profile file ${environment.configPath} is not valid: ${describeIssues(parsed.error)}. Expected {"default"?: "<profile>", "profiles": {"<profile>": {"url"?, "key"?, "namespace"?}}}.`,
    );
  }
  return parsed.data;
}

function profileNamed(
  file: z.infer<typeof configFileSchema> | undefined,
  name: string,
  configPath: string,
): Profile {
  const profile = file?.profiles[name];
  if (profile === undefined) {
    const known = Object.keys(file?.profiles ?? {});
    throw new UsageError(
      `No profile "${name}" in ${configPath} (profiles: ${known.length > 0 ? known.join(", ") : "none"}).`,
    );
  }
  return profile;
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      `The state manager URL "${url}" is not a URL; expected something like ${DEFAULT_URL} (--url, EXOSPHERE_STATE_MANAGER_URI or a profile's "url").`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`The state manager URL "${url}" must use http or https.`);
  }
}

/** `path: message` for each problem of a zod error, joined. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) =>
      issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message,
    )
    .join("; ");
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}
