/**
 * The command that installs `packages` with the package manager that started this
 * process (npm, pnpm, yarn or bun, read from `npm_config_user_agent`), npm when unknown,
 * so that a message can say exactly what to run.
 *
 * @example
 * installCommand(["@g4f-ts/provider-amigochat"]); // "npm install @g4f-ts/provider-amigochat"
 */
export function installCommand(
  packages: readonly string[],
  userAgent: string | undefined = process.env.npm_config_user_agent,
): string {
  const manager = userAgent?.split("/")[0];
  const verb =
    manager === "pnpm"
      ? "pnpm add"
      : manager === "yarn"
        ? "yarn add"
        : manager === "bun"
          ? "bun add"
          : "npm install";
  return `${verb} ${packages.join(" ")}`;
}
