import type { ZodError } from "zod";

/** A zod failure as one readable line: each issue's path and message (`choices.0.delta: expected object`). */
export function formatSchemaIssues(error: ZodError, limit = 3): string {
  const issues = error.issues.slice(0, limit).map((issue) => {
    const path = issue.path.length === 0 ? "(root)" : issue.path.map(String).join(".");
    return `${path}: ${issue.message}`;
  });
  const more = error.issues.length > limit ? ` (+${error.issues.length - limit} more)` : "";
  return `${issues.join("; ")}${more}`;
}
