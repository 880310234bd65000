#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { AbortError, closeDispatchersWithin, type Messages } from "@g4f-ts/provider-core";
import { chunkText } from "@g4f-ts/provider-core/internal";
import { loadConfig } from "./config.js";
import { ConfigError } from "./config-error.js";
import { DemoSetupError, demoPackages, startDemoUpstream } from "./demo-upstream.js";
import { collectAnswer } from "./fallback.js";
import { HttpError } from "./http-errors.js";
import { installCommand } from "./install-command.js";
import { createLogger, type LogLevel } from "./logger.js";
import { registryDirectory } from "./plugin-discovery.js";
import { createRegistry, type Registry } from "./registry.js";
import { startServer } from "./server.js";
import { ShutdownSequence } from "./shutdown-sequence.js";

const version = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

const usage = `g4f-ts ${version}: discover provider plugins, route by model, fall back, serve the OpenAI API.

Usage:
  g4f-ts [serve] [--port N] [--host H] [--config FILE] [--demo]
                                                          serve the OpenAI HTTP API (default 127.0.0.1:1337)
  g4f-ts models [--config FILE] [--json]                  list every model name a request may use
  g4f-ts providers [--config FILE] [--json]               list the providers, their models and health
  g4f-ts chat "<prompt>" --model M [--stream]             ask a model once and print the answer
  g4f-ts image "<prompt>" --model M                       generate images and print their URLs

Run "g4f-ts <command> --help" for a command's options.
Environment: G4F_API_KEY (an accepted API key), and each provider's own (AMIGOCHAT_BASE_URL, …).
`;

const commandHelp: Record<string, string> = {
  serve: `Usage: g4f-ts serve [options]

Serve the OpenAI HTTP API: POST /v1/chat/completions, POST /v1/images/generations,
GET /v1/models, GET /v1/providers, GET /healthz, GET /metrics.
SIGTERM, SIGINT or SIGHUP stops accepting, lets open streams finish within the grace
period (then ends them with an error event), and exits 0; a second signal ends them
at once and exits 128 + the signal's number (SIGTERM 143, SIGINT 130, SIGHUP 129).

Options:
  --port N          port to listen on (default: the config's, else 1337; 0 picks a free one)
  --host H          address to listen on (default: the config's, else 127.0.0.1)
  --config FILE     JSON config file (optional)
  --log-level L     fatal|error|warn|info|debug|trace|silent (default: the config's, else info)
  --grace-ms N      how long open streams may take to finish on SIGTERM (default: the
                    config's server.shutdownGraceMs, 10000)
  --demo            start a local fake AmigoChat upstream and point AmigoChat at it, so the
                    server answers without any network (needs @g4f-ts/provider-amigochat and
                    @g4f-ts/testkit installed beside the registry)
  -h, --help        show this help
`,
  models: `Usage: g4f-ts models [options]

List every model name a request may use (aliases included) and the providers that serve it.

Options:
  --config FILE     JSON config file (optional)
  --json            print the OpenAI list JSON instead of a table
  -h, --help        show this help
`,
  providers: `Usage: g4f-ts providers [options]

List the providers: id, label, enabled, working, models, and the packages that were skipped.

Options:
  --config FILE     JSON config file (optional)
  --json            print JSON instead of a table
  -h, --help        show this help
`,
  chat: `Usage: g4f-ts chat "<prompt>" --model M [options]

Ask a model once, with fallback across the providers that serve it, and print the answer.

Options:
  -m, --model M     the model (a name, an alias, "<provider>:<model>", or a provider id)
  --provider P      pin one provider
  --system TEXT     a system message before the prompt
  --stream          print the answer as it arrives
  --config FILE     JSON config file (optional)
  -h, --help        show this help
`,
  image: `Usage: g4f-ts image "<prompt>" --model M [options]

Generate images and print their URLs, one a line.

Options:
  -m, --model M     the image model
  --provider P      pin one provider
  --config FILE     JSON config file (optional)
  -h, --help        show this help
`,
};

const sharedOptions = {
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const optionsByCommand = {
  serve: {
    ...sharedOptions,
    port: { type: "string" },
    host: { type: "string" },
    "log-level": { type: "string" },
    "grace-ms": { type: "string" },
    demo: { type: "boolean" },
  },
  models: { ...sharedOptions, json: { type: "boolean" } },
  providers: { ...sharedOptions, json: { type: "boolean" } },
  chat: {
    ...sharedOptions,
    model: { type: "string", short: "m" },
    provider: { type: "string" },
    system: { type: "string" },
    stream: { type: "boolean" },
  },
  image: {
    ...sharedOptions,
    model: { type: "string", short: "m" },
    provider: { type: "string" },
  },
} as const;

type Command = keyof typeof optionsByCommand;

/** A mistake in the command line: printed with a hint, exit code 2. */
class UsageError extends Error {}

function isCommand(value: string): value is Command {
  return Object.hasOwn(optionsByCommand, value);
}

function integerOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0)
    throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  return number;
}

function portOption(value: string | undefined): number | undefined {
  const port = integerOption("port", value);
  if (port !== undefined && port > 65_535)
    throw new UsageError(`--port must be between 0 and 65535 (0 picks a free port), got ${port}`);
  return port;
}

/** The provider packages a registry alone does not have, and what each one serves. */
const providerPackages = [
  ["@g4f-ts/provider-amigochat", "AmigoChat's chat and image models (set AMIGOCHAT_BASE_URL)"],
  [
    "@g4f-ts/provider-openai-compatible",
    "any OpenAI-compatible upstream: Ollama, vLLM, LM Studio, … (configured in a config file)",
  ],
] as const;

/** What a server without an enabled provider says: what to install, set or configure. */
function idleHint(registry: Registry): string {
  const lines: string[] = [];
  if (registry.entries.length === 0) {
    lines.push(
      "g4f-ts: no provider package is installed beside the registry, so every model is unknown. Install the providers you want:",
    );
    for (const [name, serves] of providerPackages)
      lines.push(`  ${installCommand([name])}    ${serves}`);
  } else {
    lines.push(
      "g4f-ts: warning: no provider is enabled, so every model is unknown. A provider that is not working stays off until it is configured; see `g4f-ts providers`.",
    );
  }
  lines.push(
    "  To point AmigoChat at an upstream: AMIGOCHAT_BASE_URL=http://… g4f-ts serve",
    `  To add or enable providers: a config file, g4f-ts serve --config g4f.config.json ("providers": [{ "id", "use", "options" }])`,
    `  To try it offline: g4f-ts serve --demo (a local fake AmigoChat upstream; needs ${installCommand([...demoPackages])})`,
  );
  return `${lines.join("\n")}\n`;
}

function warnProblems(registry: Registry): void {
  for (const problem of registry.problems)
    process.stderr.write(`warning: skipped ${problem.packageName}: ${problem.message}\n`);
}

async function oneShotRegistry(configPath: string | undefined): Promise<Registry> {
  const registry = await createRegistry({ configPath });
  warnProblems(registry);
  return registry;
}

function promptOf(positionals: string[], command: string): string {
  const prompt = positionals.join(" ").trim();
  if (prompt === "")
    throw new UsageError(`${command} needs a prompt: g4f-ts ${command} "<prompt>" --model M`);
  return prompt;
}

async function serve(values: {
  port?: string | undefined;
  host?: string | undefined;
  config?: string | undefined;
  "log-level"?: string | undefined;
  "grace-ms"?: string | undefined;
  demo?: boolean | undefined;
}): Promise<void> {
  const port = portOption(values.port);
  const graceMs = integerOption("grace-ms", values["grace-ms"]);
  const logLevelValue = values["log-level"];
  const levels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
  if (logLevelValue !== undefined && !levels.includes(logLevelValue))
    throw new UsageError(`--log-level must be one of ${levels.join(", ")}`);
  const config = await loadConfig(values.config);
  const demo =
    values.demo === true
      ? await startDemoUpstream([...new Set([config.directory, process.cwd(), registryDirectory])])
      : undefined;
  // Providers read their environment when they are made, so this comes first.
  if (demo !== undefined) process.env[demo.variable] = demo.url;
  const logger = createLogger((logLevelValue ?? config.logLevel) as LogLevel);
  // Signals are handled from here on, so that one stops a start still fetching model lists.
  const shutdown = new ShutdownSequence({
    graceMs: graceMs ?? config.server.shutdownGraceMs,
    logger,
    write: (text) => process.stderr.write(text),
    exit: (code) => process.exit(code),
  });
  shutdown.onExit(() => demo?.close());
  shutdown.listen();
  const start = (async () => {
    const registry = await createRegistry({ config, logger, signal: shutdown.startSignal });
    return startServer({ registry, port, host: values.host });
  })();
  shutdown.starting(start);
  let server: Awaited<typeof start>;
  try {
    server = await start;
  } catch (error) {
    // The shutdown sequence ends a start stopped by a signal.
    if (shutdown.stopping) return;
    // A running demo upstream would keep the process alive after the failure.
    await demo?.close();
    throw error;
  }
  const { registry } = server;
  const enabled = registry.entries.filter((entry) => entry.enabled).length;
  logger.info(
    { url: server.url, providers: registry.entries.length, enabled },
    "serving the OpenAI API",
  );
  const count = (number: number, noun: string) => `${number} ${noun}${number === 1 ? "" : "s"}`;
  // One write: whoever waits for the first line has the console's address too.
  const consoleLine = registry.config.server.console
    ? `g4f-ts: console: open ${server.url}/ in a browser\n`
    : "";
  process.stderr.write(
    `g4f-ts: serving the OpenAI API on ${server.url} (${count(registry.entries.length, "provider")}, ${enabled} enabled, ${count(registry.modelListing().length, "model name")})\n${consoleLine}`,
  );
  if (enabled === 0) process.stderr.write(idleHint(registry));
  warnProblems(registry);
  if (demo !== undefined)
    process.stderr.write(
      `g4f-ts: demo: a local fake AmigoChat upstream answers on ${demo.url} (${demo.variable}); nothing leaves this machine\n`,
    );
}

async function listModels(values: { config?: string | undefined; json?: boolean | undefined }) {
  const registry = await oneShotRegistry(values.config);
  if (values.json === true) {
    process.stdout.write(`${registry.modelsBody()}\n`);
    return;
  }
  if (registry.modelListing().length === 0) {
    process.stderr.write(
      "No model is available: no provider is enabled. Configure one (see g4f-ts providers).\n",
    );
    return;
  }
  const width = Math.max(...registry.modelListing().map((listing) => listing.name.length));
  for (const listing of registry.modelListing())
    process.stdout.write(
      `${listing.name.padEnd(width)}  ${listing.kind.padEnd(5)}  ${listing.providers.join(", ")}\n`,
    );
}

async function listProviders(values: { config?: string | undefined; json?: boolean | undefined }) {
  const registry = await oneShotRegistry(values.config);
  const providers = registry.describeProviders();
  if (values.json === true) {
    process.stdout.write(
      `${JSON.stringify({ data: providers, skipped: registry.problems }, null, 2)}\n`,
    );
    return;
  }
  for (const provider of providers) {
    const state = provider.enabled ? "enabled" : "disabled";
    const working = provider.working ? "working" : "not working";
    process.stdout.write(
      `${provider.id}  ${provider.label}  ${state}, ${working}, priority ${provider.priority}, ${provider.models.length} models (${provider.source})\n`,
    );
  }
  if (providers.length === 0) process.stderr.write("No provider was found.\n");
}

async function chat(
  positionals: string[],
  values: {
    config?: string | undefined;
    model?: string | undefined;
    provider?: string | undefined;
    system?: string | undefined;
    stream?: boolean | undefined;
  },
): Promise<void> {
  const prompt = promptOf(positionals, "chat");
  if (values.model === undefined && values.provider === undefined)
    throw new UsageError("chat needs --model M (or --provider P for its default model)");
  const registry = await oneShotRegistry(values.config);
  const candidates = registry.resolve(values.model, values.provider, "chat");
  const messages: Messages = [];
  if (values.system !== undefined) messages.push({ role: "system", content: values.system });
  messages.push({ role: "user", content: prompt });
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  const run = registry.run(candidates, {
    requestedModel: values.model ?? values.provider ?? "",
    messages,
    options: { stream: true },
    signal: controller.signal,
    logger: undefined,
  });
  if (values.stream !== true) {
    const { answer } = await collectAnswer(run);
    process.stdout.write(`${answer.content}\n`);
    return;
  }
  const committed = await run.commit();
  try {
    for (const chunk of committed.leading) process.stdout.write(chunkText(chunk));
    for (;;) {
      const result = await committed.attempt.next();
      if (result.done) break;
      process.stdout.write(chunkText(result.value));
    }
  } catch (error) {
    const report = await run.failAfterCommit(committed, error, false);
    process.stdout.write("\n");
    throw new HttpError(502, `the answer broke off: ${report.provider}: ${report.message}`);
  }
  run.succeed(committed);
  process.stdout.write("\n");
}

async function image(
  positionals: string[],
  values: {
    config?: string | undefined;
    model?: string | undefined;
    provider?: string | undefined;
  },
): Promise<void> {
  const prompt = promptOf(positionals, "image");
  if (values.model === undefined && values.provider === undefined)
    throw new UsageError("image needs --model M (or --provider P for its first image model)");
  const registry = await oneShotRegistry(values.config);
  const candidates = registry.resolve(values.model, values.provider, "image");
  const run = registry.run(candidates, {
    requestedModel: values.model ?? values.provider ?? "",
    messages: [{ role: "user", content: prompt }],
    options: {},
    signal: undefined,
    logger: undefined,
  });
  const { answer } = await collectAnswer(run);
  const { images } = answer;
  if (images.length === 0) throw new HttpError(502, "the provider answered without any image");
  for (const url of images) process.stdout.write(`${url}\n`);
}

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === "--version" || first === "-v") {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(usage);
    return 0;
  }
  if (first !== undefined && !first.startsWith("-")) {
    if (!isCommand(first)) throw new UsageError(`unknown command "${first}"`);
    return runCommand(first, argv.slice(1));
  }
  // No command: serve, so `pnpm start --port N` works as `g4f-ts serve --port N`.
  return runCommand("serve", argv);
}

async function runCommand(command: Command, args: string[]): Promise<number> {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  let positionals: string[];
  try {
    const options: ParseArgsConfig["options"] = optionsByCommand[command];
    ({ values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: command === "chat" || command === "image",
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(commandHelp[command] ?? usage);
    return 0;
  }
  const text = (name: string) => {
    const value = values[name];
    return typeof value === "string" ? value : undefined;
  };
  const flag = (name: string) => values[name] === true;
  switch (command) {
    case "serve":
      await serve({
        port: text("port"),
        host: text("host"),
        config: text("config"),
        "log-level": text("log-level"),
        "grace-ms": text("grace-ms"),
        demo: flag("demo"),
      });
      return -1;
    case "models":
      await listModels({ config: text("config"), json: flag("json") });
      return 0;
    case "providers":
      await listProviders({ config: text("config"), json: flag("json") });
      return 0;
    case "chat":
      await chat(positionals, {
        config: text("config"),
        model: text("model"),
        provider: text("provider"),
        system: text("system"),
        stream: flag("stream"),
      });
      return 0;
    case "image":
      await image(positionals, {
        config: text("config"),
        model: text("model"),
        provider: text("provider"),
      });
      return 0;
  }
}

// `g4f-ts models | head -1`: the reader is gone, which is no error of ours. End quietly,
// as Unix tools do on SIGPIPE, instead of an unhandled EPIPE stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then(
  async (code) => {
    // -1: the server keeps running until a signal.
    if (code === -1) return;
    await closeDispatchersWithin(1_000);
    process.exitCode = code;
  },
  async (error: unknown) => {
    await closeDispatchersWithin(1_000);
    if (error instanceof UsageError) {
      process.stderr.write(`g4f-ts: ${error.message}\nRun "g4f-ts --help" for usage.\n`);
      process.exitCode = 2;
    } else if (error instanceof ConfigError || error instanceof DemoSetupError) {
      process.stderr.write(`g4f-ts: ${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof HttpError) {
      process.stderr.write(`g4f-ts: error (${error.status}): ${error.message}\n`);
      process.exitCode = 1;
    } else if (AbortError.isInstance(error)) {
      process.exitCode = 130;
    } else {
      process.stderr.write(`g4f-ts: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
