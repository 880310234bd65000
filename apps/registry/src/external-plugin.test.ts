import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { closeDispatchers } from "@g4f-ts/provider-core";
import { closedPortUrl } from "@g4f-ts/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { postJson, sseData, streamedText } from "./__fixtures__/amigo-pair.js";
import {
  type ChatOrErrorBody,
  type ModelsBody,
  type ProvidersBody,
  readJson,
} from "./__fixtures__/http-bodies.js";
import { createRegistry } from "./registry.js";
import { type RunningServer, startServer } from "./server.js";

/*
 * The example provider of docs/writing-a-provider.md, as a user would get it: packed
 * with `npm pack`, unpacked into the node_modules of an application folder (a temp
 * dir with nothing of this repository in it), named by a config file there, and
 * served by the registry. Nothing is downloaded: npm packs a local folder with no
 * dependencies offline, and the provider's peer dependency, @g4f-ts/provider-core, is
 * linked to this workspace's copy as a package manager would install it.
 */

const run = promisify(execFile);
const echoSource = fileURLToPath(new URL("../../../examples/provider-echo", import.meta.url));
const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const coreLink = fileURLToPath(new URL("../node_modules/@g4f-ts/provider-core", import.meta.url));

let root: string;
/** The application folder: its node_modules holds the unpacked provider, its config names it. */
let app: string;
let configPath: string;
let packedFiles: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "g4f-external-plugin-"));
  const packed = join(root, "packed");
  await mkdir(packed);
  // --offline and a registry on a closed local port: should npm want the network for
  // anything, the pack fails instead of reaching out.
  const { stdout } = await run(
    "npm",
    ["pack", echoSource, "--pack-destination", packed, "--offline", "--ignore-scripts", "--json"],
    {
      env: {
        ...process.env,
        npm_config_registry: `${await closedPortUrl()}/`,
        npm_config_cache: join(root, "npm-cache"),
        npm_config_update_notifier: "false",
        npm_config_audit: "false",
        npm_config_fund: "false",
      },
      timeout: 15_000,
    },
  );
  const [result] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  if (result === undefined) throw new Error(`npm pack printed no result: ${stdout}`);
  packedFiles = result.files.map((file) => file.path).sort();

  app = join(root, "app");
  const installed = join(app, "node_modules", "g4f-ts-provider-echo");
  await mkdir(installed, { recursive: true });
  await run("tar", [
    "-xzf",
    join(packed, result.filename),
    "-C",
    installed,
    "--strip-components=1",
  ]);
  await mkdir(join(app, "node_modules", "@g4f-ts"));
  await symlink(
    await realpath(coreLink),
    join(app, "node_modules", "@g4f-ts", "provider-core"),
    "dir",
  );
  configPath = join(app, "g4f.config.json");
  await writeFile(
    configPath,
    JSON.stringify({
      logLevel: "silent",
      providers: [{ id: "echo", use: "g4f-ts-provider-echo" }],
    }),
  );
}, 20_000);

afterAll(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close(0);
  server = undefined;
  await closeDispatchers();
});

const question = { model: "echo", messages: [{ role: "user", content: "hello from outside" }] };

describe("a provider package from outside this repository", () => {
  it("packs into a tarball with its manifest, entry module and README, and nothing else", async () => {
    expect(packedFiles).toEqual(["LICENSE", "README.md", "index.js", "package.json"]);
    expect((await readdir(join(app, "node_modules", "g4f-ts-provider-echo"))).sort()).toEqual(
      packedFiles,
    );
  });

  it("is loaded from the config file's folder when the config's use names it, and answers JSON and streamed", async () => {
    const registry = await createRegistry({ configPath, env: {} });
    expect(registry.problems).toEqual([]);
    server = await startServer({ registry, port: 0 });
    const echo = registry.entries.find((entry) => entry.id === "echo");
    expect(echo).toMatchObject({ source: "g4f-ts-provider-echo", enabled: true });

    const response = await postJson(server, "/v1/chat/completions", question);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-g4f-provider")).toBe("echo");
    const body = await readJson<ChatOrErrorBody>(response);
    expect(body).toMatchObject({ provider: "echo", model: "echo" });
    expect(body.choices[0]?.message.content).toBe("hello from outside");
    expect(body.choices[0]?.finish_reason).toBe("stop");

    const streamed = await postJson(server, "/v1/chat/completions", {
      ...question,
      model: "loud",
      stream: true,
    });
    expect(streamed.headers.get("x-g4f-provider")).toBe("echo");
    const payloads = sseData(await streamed.text());
    expect(JSON.parse(payloads[0] ?? "{}")).toMatchObject({ provider: "echo", model: "shout" });
    expect(streamedText(payloads)).toBe("HELLO FROM OUTSIDE");
    expect(payloads.at(-1)).toBe("[DONE]");

    const models = await readJson<ModelsBody>(await fetch(`${server.url}/v1/models`));
    expect(
      models.data
        .filter((model) => model.providers.includes("echo"))
        .map(({ id, type }) => `${id} ${type}`)
        .sort(),
    ).toEqual(["echo chat", "echo-image image", "loud chat", "shout chat"]);
    const providers = await readJson<ProvidersBody>(await fetch(`${server.url}/v1/providers`));
    expect(providers.data.find((provider) => provider.id === "echo")).toMatchObject({
      label: "Echo",
      source: "g4f-ts-provider-echo",
      working: true,
      enabled: true,
    });
  });

  it("is discovered in the node_modules it is installed in, without a config", async () => {
    server = await startServer({
      config: { logLevel: "silent" },
      discoveryDirectory: app,
      port: 0,
      env: {},
    });
    expect(server.registry.problems).toEqual([]);
    expect(server.registry.entries.map((entry) => `${entry.id} ${entry.source}`)).toEqual([
      "echo g4f-ts-provider-echo",
    ]);
    const response = await postJson(server, "/api/echo/chat/completions", {
      messages: [{ role: "user", content: "pinned by path" }],
      stream: true,
    });
    expect(response.headers.get("x-g4f-provider")).toBe("echo");
    expect(streamedText(sseData(await response.text()))).toBe("pinned by path");
  });

  it("is listed by the CLI's models and providers commands given that config", async () => {
    if (!existsSync(cli))
      throw new Error(
        `build the registry first (npx tsc -p tsconfig.build.json): ${cli} is missing`,
      );
    // Without the AmigoChat upstream variable, only the echo is enabled.
    const { AMIGOCHAT_BASE_URL: _baseUrl, G4F_API_KEY: _key, ...environment } = process.env;
    const g4f = (...args: string[]) =>
      run(process.execPath, [cli, ...args, "--config", configPath], {
        env: environment,
        timeout: 15_000,
      });
    const [models, providers, chat] = await Promise.all([
      g4f("models"),
      g4f("providers"),
      g4f("chat", "say it loud", "--model", "loud"),
    ]);
    expect(models.stdout.trim().split("\n")).toEqual([
      "echo        chat   echo",
      "shout       chat   echo",
      "echo-image  image  echo",
      "loud        chat   echo",
    ]);
    expect(models.stderr).toBe("");
    expect(providers.stdout).toMatch(
      /^echo {2}Echo {2}enabled, working, priority 0, 3 models \(g4f-ts-provider-echo\)$/m,
    );
    expect(chat.stdout).toBe("SAY IT LOUD\n");
  });
});
