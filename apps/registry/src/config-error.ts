/** One problem of a config: the dotted path of the bad field and what is wrong with it. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/**
 * A config that can not be used. Its message lists every problem with the path of
 * its field, so a person can fix them all in one go.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";

  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `Invalid ${source}:\n${issues.map((issue) => `  ${issue.path}: ${issue.message}`).join("\n")}`,
    );
  }
}
