import { Writable } from "node:stream";
import { pino } from "pino";
import type { RegistryConfigInput } from "../config.js";
import { type RunningServer, startServer } from "../server.js";
import type { ScriptedProvider } from "./scripted-provider.js";

export interface ScriptedServerOptions {
  env?: Record<string, string>;
  /** Collects the server's log lines (at `logLevel`, default trace) when given. */
  logLines?: string[];
  logLevel?: "trace" | "info";
}

/**
 * A registry server on a free loopback port, with in-memory providers only (no
 * discovery) and an empty environment unless given one. The caller closes it.
 */
export function startScriptedServer(
  providers: ScriptedProvider[],
  config: RegistryConfigInput = {},
  options: ScriptedServerOptions = {},
): Promise<RunningServer> {
  const { logLines } = options;
  const logger =
    logLines === undefined
      ? undefined
      : pino(
          { level: options.logLevel ?? "trace" },
          new Writable({
            write(chunk, _encoding, callback) {
              logLines.push(String(chunk));
              callback();
            },
          }),
        );
  return startServer({
    discover: false,
    config,
    providers,
    port: 0,
    env: options.env ?? {},
    logger,
  });
}
