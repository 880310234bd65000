import type { ConfigIssue } from "./config-error.js";

/** The environment secrets are read from (`process.env` or a test's own). */
export type EnvironmentVariables = Readonly<Record<string, string | undefined>>;

/**
 * Option names that hold secrets. A literal string under one of them is refused, so
 * that a key never sits in a config file (which ends up in repositories and backups):
 * it must be written as `{ "env": "NAME" }`.
 */
const secretNamePattern = /api[-_]?key|secret|token|password|passwd|cookie|authorization/i;

function isEnvironmentReference(value: unknown): value is { env: string } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 1 && keys[0] === "env" && typeof (value as { env: unknown }).env === "string"
  );
}

/**
 * Replace every `{ "env": "NAME" }` in `value` (at any depth) by the environment's
 * value. A variable that is not set, or a literal secret, adds an issue naming its
 * path; the value is left out of the result then.
 */
export function resolveSecretReferences(
  value: Record<string, unknown>,
  path: string,
  env: EnvironmentVariables,
  issues: ConfigIssue[],
): Record<string, unknown> {
  const resolved: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    const entryPath = `${path}.${key}`;
    // `apiKeyEnv`-style options name a variable, not a secret, and stay as written.
    if (
      typeof entry === "string" &&
      entry !== "" &&
      secretNamePattern.test(key) &&
      !key.endsWith("Env")
    ) {
      issues.push({
        path: entryPath,
        message: `a secret may not be written in the config; use { "env": "VARIABLE_NAME" }`,
      });
      continue;
    }
    const resolvedEntry = resolveValue(entry, entryPath, env, issues);
    if (resolvedEntry !== undefined) resolved[key] = resolvedEntry;
  }
  return resolved;
}

function resolveValue(
  value: unknown,
  path: string,
  env: EnvironmentVariables,
  issues: ConfigIssue[],
): unknown {
  if (isEnvironmentReference(value)) {
    const variable = env[value.env];
    if (variable === undefined || variable === "") {
      issues.push({ path, message: `the environment variable ${value.env} is not set` });
      return undefined;
    }
    return variable;
  }
  if (Array.isArray(value))
    return value.map((item, index) => resolveValue(item, `${path}.${index}`, env, issues));
  if (typeof value === "object" && value !== null)
    return resolveSecretReferences(value as Record<string, unknown>, path, env, issues);
  return value;
}
