import type { Dirent } from "node:fs";
import { readdir, readFile, realpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ProviderPlugin, providerPackageField } from "@g4f-ts/provider-core";

/** A provider package that loaded: its name, folder and the plugin its entry module exports. */
export interface DiscoveredPlugin {
  readonly packageName: string;
  readonly packageDirectory: string;
  readonly plugin: ProviderPlugin;
}

/** A provider package that was skipped, and why. */
export interface DiscoveryProblem {
  /** The package name (or the config's `use` value when no package was found). */
  readonly packageName: string;
  readonly message: string;
}

export interface DiscoveryResult {
  plugins: DiscoveredPlugin[];
  problems: DiscoveryProblem[];
}

/** The registry package's own folder: discovery starts from it, wherever the registry is installed. */
export const registryDirectory = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Every `node_modules` folder Node's resolution would look in from `directory`, nearest first. */
export function nodeModulesFolders(directory: string): string[] {
  const folders: string[] = [];
  let current = resolve(directory);
  for (;;) {
    if (basename(current) !== "node_modules") folders.push(join(current, "node_modules"));
    const parent = dirname(current);
    if (parent === current) return folders;
    current = parent;
  }
}

interface PackageManifest {
  name?: unknown;
  [providerPackageField]?: unknown;
}

async function readManifest(packageDirectory: string): Promise<PackageManifest | undefined> {
  try {
    const value: unknown = JSON.parse(
      await readFile(join(packageDirectory, "package.json"), "utf8"),
    );
    return typeof value === "object" && value !== null ? (value as PackageManifest) : undefined;
  } catch {
    // Not a package (or a broken one that declares nothing): not ours to report.
    return undefined;
  }
}

async function listDirectory(directory: string): Promise<Dirent[]> {
  try {
    return await readdir(directory, { withFileTypes: true });
  } catch {
    return [];
  }
}

// pnpm links packages, so a symbolic link counts as a package folder too.
function mayBePackage(entry: Dirent): boolean {
  return !entry.name.startsWith(".") && (entry.isDirectory() || entry.isSymbolicLink());
}

/** The package folders directly in one `node_modules`, scoped ones included, sorted by name. */
async function packageFolders(nodeModules: string): Promise<string[]> {
  const entries = (await listDirectory(nodeModules)).filter(mayBePackage);
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const path = join(nodeModules, entry.name);
      if (!entry.name.startsWith("@")) return [path];
      const scoped = (await listDirectory(path)).filter(mayBePackage);
      return scoped.map((scopedEntry) => join(path, scopedEntry.name));
    }),
  );
  return nested.flat().sort();
}

function entryOf(manifest: PackageManifest): string | undefined | Error {
  const field = manifest[providerPackageField];
  if (field === undefined) return undefined;
  const entry =
    typeof field === "object" && field !== null
      ? (field as { provider?: unknown }).provider
      : undefined;
  if (typeof entry !== "string" || entry === "")
    return new Error(
      `its package.json field "${providerPackageField}" should be { "provider": "<entry module>" }`,
    );
  return entry;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True for a value shaped as a `ProviderPlugin` (the provider it makes is checked later). */
function isPlugin(value: unknown): value is ProviderPlugin {
  if (typeof value !== "object" || value === null) return false;
  const plugin = value as Record<string, unknown>;
  return (
    typeof plugin.name === "string" &&
    plugin.name !== "" &&
    typeof plugin.createProvider === "function"
  );
}

/**
 * Load the provider package in `packageDirectory`: read its `"g4f-ts"` field,
 * import the entry module it names and take its `providerPlugin` export. Throws an
 * `Error` saying what is wrong; `undefined` when the package is not a provider
 * package at all.
 */
export async function loadProviderPackage(
  packageDirectory: string,
): Promise<DiscoveredPlugin | undefined> {
  const manifest = await readManifest(packageDirectory);
  if (manifest === undefined) return undefined;
  const entry = entryOf(manifest);
  if (entry === undefined) return undefined;
  if (entry instanceof Error) throw entry;
  const packageName = typeof manifest.name === "string" ? manifest.name : packageDirectory;
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(packageDirectory, entry)).href)) as Record<
      string,
      unknown
    >;
  } catch (error) {
    throw new Error(`its entry module ${entry} failed to load: ${describe(error)}`);
  }
  const plugin = module.providerPlugin;
  if (!isPlugin(plugin))
    throw new Error(
      `its entry module ${entry} does not export a providerPlugin ({ name, createProvider })`,
    );
  return { packageName, packageDirectory, plugin };
}

/**
 * Find every provider package installed in the `node_modules` folders reachable
 * from `fromDirectory` (the registry's own folder by default), nearest first, and
 * load them. A package that fails to load is reported in `problems` and skipped;
 * the nearest copy of a package name wins. Nothing is cached: each call reads the
 * folders afresh.
 */
export async function discoverProviderPackages(
  fromDirectory: string = registryDirectory,
): Promise<DiscoveryResult> {
  const seenNames = new Set<string>();
  const seenDirectories = new Set<string>();
  const declared: { packageName: string; directory: string }[] = [];
  for (const nodeModules of nodeModulesFolders(fromDirectory)) {
    const folders = await packageFolders(nodeModules);
    const manifests = await Promise.all(folders.map((folder) => readManifest(folder)));
    for (const [index, manifest] of manifests.entries()) {
      if (manifest === undefined || manifest[providerPackageField] === undefined) continue;
      const directory = folders[index] as string;
      const packageName = typeof manifest.name === "string" ? manifest.name : directory;
      if (seenNames.has(packageName)) continue;
      seenNames.add(packageName);
      declared.push({ packageName, directory });
    }
  }

  const results = await Promise.all(
    declared.map(async ({ packageName, directory }) => {
      try {
        // One package reached through two links is loaded once.
        const real = await realpath(directory);
        if (seenDirectories.has(real)) return undefined;
        seenDirectories.add(real);
        return await loadProviderPackage(directory);
      } catch (error) {
        return { packageName, message: describe(error) } satisfies DiscoveryProblem;
      }
    }),
  );
  const plugins: DiscoveredPlugin[] = [];
  const problems: DiscoveryProblem[] = [];
  for (const result of results) {
    if (result === undefined) continue;
    if ("plugin" in result) plugins.push(result);
    else problems.push(result);
  }
  return { plugins, problems };
}

/**
 * The folder of the package a config's `use` names: a path (`./my-provider`,
 * resolved from the first search folder) or a package name looked up in the
 * `node_modules` folders reachable from each search folder, as Node resolves it.
 */
export async function findPackageDirectory(
  use: string,
  searchDirectories: readonly string[],
): Promise<string | undefined> {
  if (use.startsWith(".") || isAbsolute(use)) {
    const directory = resolve(searchDirectories[0] ?? process.cwd(), use);
    return (await readManifest(directory)) === undefined ? undefined : directory;
  }
  for (const searchDirectory of searchDirectories) {
    for (const nodeModules of nodeModulesFolders(searchDirectory)) {
      const directory = join(nodeModules, use);
      if ((await readManifest(directory)) !== undefined) return directory;
    }
  }
  return undefined;
}
