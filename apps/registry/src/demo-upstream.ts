import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type * as Testkit from "@g4f-ts/testkit";
import { installCommand } from "./install-command.js";
import { findPackageDirectory } from "./plugin-discovery.js";

/** A local stand-in for a provider's upstream, for `g4f-ts serve --demo`. */
export interface DemoUpstream {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The environment variable that points the provider at it. */
  readonly variable: string;
  close(): Promise<void>;
}

/** `--demo` can not run here: the message names what is missing and the command that installs it. */
export class DemoSetupError extends Error {
  override readonly name = "DemoSetupError";
}

/** The provider the demo answers through, and the package of its fake upstream. */
export const demoPackages = ["@g4f-ts/provider-amigochat", "@g4f-ts/testkit"] as const;

function modelOf(body: unknown): string {
  const model =
    typeof body === "object" && body !== null ? (body as { model?: unknown }).model : undefined;
  return typeof model === "string" ? model : "a model";
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Load the testkit from where the user installed it (beside the registry, or in the
 * project of `searchDirectories`), not from the registry's own dependencies: the
 * registry does not depend on it, so that a server install stays small.
 */
async function importTestkit(directory: string): Promise<typeof Testkit> {
  // Resolving the package's own name from inside it honours its `exports` map.
  const entry = createRequire(join(directory, "package.json")).resolve("@g4f-ts/testkit");
  return (await import(pathToFileURL(entry).href)) as typeof Testkit;
}

/**
 * Start the testkit's AmigoChat fake on a free loopback port, so that the
 * registry answers without any network: the AmigoChat service itself is long gone.
 * Needs the AmigoChat provider and the testkit installed beside the registry; when
 * one is missing, the `DemoSetupError` names it with the command that installs it.
 */
export async function startDemoUpstream(
  searchDirectories: readonly string[],
): Promise<DemoUpstream> {
  const directories = await Promise.all(
    demoPackages.map((name) => findPackageDirectory(name, searchDirectories)),
  );
  const missing = demoPackages.filter((_, index) => directories[index] === undefined);
  if (missing.length > 0)
    throw new DemoSetupError(
      `--demo needs ${missing.join(" and ")} beside the registry, and ${missing.length === 1 ? "it is" : "they are"} not installed here. Install ${missing.length === 1 ? "it" : "them"} with: ${installCommand(missing)}`,
    );
  let testkit: typeof Testkit;
  try {
    testkit = await importTestkit(directories[1] as string);
  } catch (error) {
    throw new DemoSetupError(
      `--demo could not load @g4f-ts/testkit (${describe(error)}). Reinstall it with: ${installCommand(["@g4f-ts/testkit"])}`,
    );
  }
  const fake = await testkit.startAmigoChatFake({
    chunkDelayMs: 25,
    usage: true,
    reply: (request) =>
      `Hello! This is the g4f-ts demo upstream answering as ${modelOf(request.json)}; nothing left this machine.`,
  });
  return { url: fake.url, variable: "AMIGOCHAT_BASE_URL", close: () => fake.close() };
}
