import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The hand-written page: `console/` beside `src/` and `dist/` in the registry package. */
const pageDirectory = fileURLToPath(new URL("../../console/", import.meta.url));
const require = createRequire(import.meta.url);

/** A file of an installed package (a dependency of the registry), served as is. */
function packageFile(packageName: string, file: string): string {
  return join(dirname(require.resolve(`${packageName}/package.json`)), file);
}

/** One file the console serves. */
interface ConsoleAsset {
  readonly path: () => string;
  readonly contentType: string;
}

const javascript = "text/javascript; charset=utf-8";
const css = "text/css; charset=utf-8";

/**
 * Every file the console serves, by its name under `/console/` ("" is the page).
 * The libraries come from the registry's own dependencies, same origin: the page
 * makes no request elsewhere.
 */
const assets = new Map<string, ConsoleAsset>([
  ["", { path: () => join(pageDirectory, "index.html"), contentType: "text/html; charset=utf-8" }],
  ["console.css", { path: () => join(pageDirectory, "console.css"), contentType: css }],
  ["console.js", { path: () => join(pageDirectory, "console.js"), contentType: javascript }],
  [
    "vendor/uplot.js",
    { path: () => packageFile("uplot", "dist/uPlot.esm.js"), contentType: javascript },
  ],
  [
    "vendor/uplot.css",
    { path: () => packageFile("uplot", "dist/uPlot.min.css"), contentType: css },
  ],
  [
    "vendor/eventsource-parser.js",
    { path: () => packageFile("eventsource-parser", "dist/index.js"), contentType: javascript },
  ],
]);

/** A file's body and type, read once and then kept (the set is fixed and small). */
export interface LoadedAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

const loaded = new Map<string, Promise<LoadedAsset>>();

/** The map comment would send a browser's developer tools after a file that is not served. */
const sourceMapComment = /\n\/\/# sourceMappingURL=\S+\s*$/;

async function load(asset: ConsoleAsset): Promise<LoadedAsset> {
  const text = await readFile(asset.path(), "utf8");
  return {
    body: Buffer.from(text.replace(sourceMapComment, "\n")),
    contentType: asset.contentType,
  };
}

/** The console file named `name` (a path under `/console/`), or undefined when there is none. */
export function consoleAsset(name: string): Promise<LoadedAsset> | undefined {
  const asset = assets.get(name);
  if (asset === undefined) return undefined;
  let pending = loaded.get(name);
  if (pending === undefined) {
    pending = load(asset);
    // A failed read (a broken install) is tried again on the next request.
    pending.catch(() => loaded.delete(name));
    loaded.set(name, pending);
  }
  return pending;
}
