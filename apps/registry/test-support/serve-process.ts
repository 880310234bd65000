import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The built CLI (`npx tsc -p tsconfig.build.json` makes it). */
export const cliPath = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

/** Write `config` as a config file in a new temp folder; resolves with its path, for `--config`. */
export async function writeConfigFile(config: unknown): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), "g4f-config-")), "g4f.json");
  await writeFile(path, JSON.stringify(config));
  return path;
}

export interface ServeProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** What the process wrote to stderr so far. */
  stderr(): string;
}

/**
 * Start `g4f-ts serve` as its own process and resolve once it listens, so a test can
 * send it signals as an operator would.
 */
export function startServeProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServeProcess> {
  if (!existsSync(cliPath))
    throw new Error(
      `build the registry first (npx tsc -p tsconfig.build.json): ${cliPath} is missing`,
    );
  const child = spawn(process.execPath, [cliPath, "serve", ...args], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  let stderr = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 15_000);
    child.stderr?.on("data", (data: Buffer) => {
      stderr += data.toString();
      const match = /serving the OpenAI API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ child, url: match[1], exited, stderr: () => stderr });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${stderr}`));
    });
  });
}
