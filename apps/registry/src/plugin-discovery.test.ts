import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "./config-error.js";
import { discoverProviderPackages, nodeModulesFolders } from "./plugin-discovery.js";
import { createRegistry } from "./registry.js";

/** A tiny provider in plain JavaScript, as a third-party package would ship it. */
function providerModule(name: string, model: string): string {
  return `
export const providerPlugin = {
  name: ${JSON.stringify(name)},
  createProvider(options = {}) {
    const id = options.id ?? ${JSON.stringify(name)};
    return {
      id, label: options.label ?? id, url: "http://127.0.0.1/", working: options.working ?? true,
      supportsStream: true, supportsSystemMessage: true, supportsMessageHistory: true, needsAuth: false,
      defaultModel: ${JSON.stringify(model)}, models: [${JSON.stringify(model)}], chatModels: [${JSON.stringify(model)}],
      imageModels: [], modelAliases: {},
      getModels() { return this.models; },
      getModel(name) { return name || this.defaultModel; },
      async *createAsyncGenerator(model) { yield "Hello from " + id + " (" + (options.greeting ?? "no greeting") + ")"; },
    };
  },
};
`;
}

async function writePackage(
  directory: string,
  manifest: Record<string, unknown>,
  files: Record<string, string> = {},
): Promise<void> {
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, "package.json"), JSON.stringify({ type: "module", ...manifest }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(directory, name), text);
}

let root: string;
let app: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "g4f-discovery-"));
  app = join(root, "app");
  await mkdir(app);
  const nodeModules = join(root, "node_modules");
  const field = { "g4f-ts": { provider: "./index.js" } };
  await writePackage(
    join(nodeModules, "good-provider"),
    { name: "good-provider", ...field },
    {
      "index.js": providerModule("good", "good-model"),
    },
  );
  await writePackage(
    join(nodeModules, "@acme", "scoped-provider"),
    { name: "@acme/scoped-provider", ...field },
    {
      "index.js": providerModule("scoped", "scoped-model"),
    },
  );
  await writePackage(
    join(nodeModules, "broken-provider"),
    { name: "broken-provider", ...field },
    {
      "index.js": 'throw new Error("kaboom while loading");\n',
    },
  );
  await writePackage(
    join(nodeModules, "no-export-provider"),
    { name: "no-export-provider", ...field },
    {
      "index.js": "export const somethingElse = 1;\n",
    },
  );
  await writePackage(
    join(nodeModules, "half-provider"),
    { name: "half-provider", ...field },
    {
      "index.js":
        'export const providerPlugin = { name: "half", createProvider: () => ({ id: "half" }) };\n',
    },
  );
  await writePackage(
    join(nodeModules, "picky-provider"),
    { name: "picky-provider", ...field },
    {
      "index.js":
        'export const providerPlugin = { name: "picky", createProvider(options = {}) { throw new Error("picky: invalid option \\"baseUrl\\""); } };\n',
    },
  );
  await writePackage(join(nodeModules, "bad-field-provider"), {
    name: "bad-field-provider",
    "g4f-ts": { provider: 42 },
  });
  await writePackage(
    join(nodeModules, "left-pad"),
    { name: "left-pad" },
    { "index.js": "export default 1;\n" },
  );
  await writePackage(
    join(root, "local-provider"),
    { name: "local-provider", ...field },
    {
      "index.js": providerModule("local", "local-model"),
    },
  );
});

const originalBaseUrl = process.env.AMIGOCHAT_BASE_URL;
afterEach(() => {
  if (originalBaseUrl === undefined) delete process.env.AMIGOCHAT_BASE_URL;
  else process.env.AMIGOCHAT_BASE_URL = originalBaseUrl;
});

describe("plugin discovery", () => {
  it("looks in every node_modules folder up from the start, nearest first", () => {
    expect(nodeModulesFolders("/srv/app/packages/x").slice(0, 3)).toEqual([
      "/srv/app/packages/x/node_modules",
      "/srv/app/packages/node_modules",
      "/srv/app/node_modules",
    ]);
  });

  it("finds provider packages, scoped ones too, and reports the broken ones by name", async () => {
    const { plugins, problems } = await discoverProviderPackages(app);
    expect(plugins.map((plugin) => `${plugin.packageName}:${plugin.plugin.name}`)).toEqual([
      "@acme/scoped-provider:scoped",
      "good-provider:good",
      "half-provider:half",
      "picky-provider:picky",
    ]);
    const byName = Object.fromEntries(
      problems.map((problem) => [problem.packageName, problem.message]),
    );
    expect(Object.keys(byName).sort()).toEqual([
      "bad-field-provider",
      "broken-provider",
      "no-export-provider",
    ]);
    expect(byName["broken-provider"]).toContain("kaboom while loading");
    expect(byName["no-export-provider"]).toContain("does not export a providerPlugin");
    expect(byName["bad-field-provider"]).toContain('"g4f-ts"');
  });

  it("skips a provider that breaks the contract, and the rest still start", async () => {
    const registry = await createRegistry({ discoveryDirectory: app, env: {} });
    expect(registry.entries.map((entry) => entry.id)).toEqual(["scoped", "good"]);
    expect(
      registry.problems.find((problem) => problem.packageName === "half-provider")?.message,
    ).toMatch(/provider "half" does not satisfy the provider contract: label should be a string/);
    const candidates = registry.router.resolve("good-model", undefined, "chat");
    expect(candidates.map((candidate) => candidate.entry.source)).toEqual(["good-provider"]);
  });

  it("adds instances from the config: a package twice with different options, a local path, and skips what it can not load", async () => {
    const configPath = join(root, "g4f.json");
    await writeFile(
      configPath,
      JSON.stringify({
        providers: [
          { id: "good-one", use: "good-provider", options: { greeting: "one" } },
          { id: "good-two", use: "good-provider", options: { greeting: "two" }, priority: 5 },
          { id: "mine", use: "./local-provider" },
          { id: "ghost", use: "not-installed-provider", optional: true },
          { id: "scoped", enabled: false },
        ],
      }),
    );
    const registry = await createRegistry({ configPath, discoveryDirectory: app, env: {} });
    expect(registry.entries.map((entry) => `${entry.id}:${entry.enabled}`)).toEqual([
      "good-one:true",
      "good-two:true",
      "mine:true",
      "scoped:false",
    ]);
    expect(registry.problems.map((problem) => problem.packageName)).toContain(
      "not-installed-provider",
    );
    const candidates = registry.router.resolve("good-model", undefined, "chat");
    expect(candidates.map((candidate) => candidate.entry.id)).toEqual(["good-two", "good-one"]);
  });

  it("refuses to start when a config entry's package is missing or refuses its options, naming the entry and the install command", async () => {
    const configPath = join(root, "g4f-strict.json");
    await writeFile(
      configPath,
      JSON.stringify({
        providers: [
          { id: "good-one", use: "good-provider" },
          { id: "ghost", use: "not-installed-provider" },
          { id: "shy", use: "picky-provider", options: { refuse: true } },
        ],
      }),
    );
    const failure = await createRegistry({ configPath, discoveryDirectory: app, env: {} }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ConfigError);
    const issues = (failure as ConfigError).issues;
    expect(issues.map((issue) => issue.path)).toEqual(["providers.1", "providers.2"]);
    expect(issues[0]?.message).toContain("the package is not installed");
    expect(issues[0]?.message).toMatch(
      /\((npm install|pnpm add|yarn add|bun add) not-installed-provider\)/,
    );
    expect(issues[0]?.message).toContain('"optional": true');
    expect(issues[1]?.message).toContain("its options were refused");
    expect((failure as ConfigError).message).toContain(configPath);
  });

  it("starts without a config entry marked optional whose package is missing, and lists it as skipped", async () => {
    const registry = await createRegistry({
      config: { providers: [{ id: "ghost", use: "not-installed-provider", optional: true }] },
      discoveryDirectory: app,
      env: {},
    });
    expect(registry.entries.map((entry) => entry.id)).not.toContain("ghost");
    expect(registry.problems).toContainEqual({
      packageName: "not-installed-provider",
      message: expect.stringContaining("providers.0 (ghost): the package is not installed"),
    });
  });

  it("discovers the installed AmigoChat package, left out until it has an upstream", async () => {
    delete process.env.AMIGOCHAT_BASE_URL;
    const idle = await createRegistry({ env: {} });
    const amigo = idle.entries.find((entry) => entry.id === "amigochat");
    expect(amigo).toMatchObject({ enabled: false, source: "@g4f-ts/provider-amigochat" });
    expect(amigo?.provider.working).toBe(false);

    process.env.AMIGOCHAT_BASE_URL = "http://127.0.0.1:9";
    const configured = await createRegistry({ env: {} });
    expect(configured.entries.find((entry) => entry.id === "amigochat")?.enabled).toBe(true);
  });

  it("includes a provider that is not working when the config enables it", async () => {
    delete process.env.AMIGOCHAT_BASE_URL;
    const registry = await createRegistry({
      config: { providers: [{ id: "amigochat", enabled: true }] },
      env: {},
    });
    expect(registry.entries.find((entry) => entry.id === "amigochat")?.enabled).toBe(true);
  });
});
