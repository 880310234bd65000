// The registry of the benches that measure it above its providers
// (registry-layers, fallback-engine, stream-first-write): built from the checkout
// at `root` (each checkout's own `dist`, so a baseline build can be measured beside
// this one), with one provider that answers in memory, no upstream and no HTTP
// call, through the core's provider contract.

/**
 * A silent registry of the checkout at `root` whose one provider, "instant", serves
 * `gpt-4o-mini` with the batches `answer(core)` yields on each call (an async
 * generator function; `core` is that checkout's provider-core, for its chunk types).
 * Resolves with the registry and the checkout's registry package.
 */
export async function inMemoryRegistry(root, answer) {
  const core = await import(`${root}/packages/provider-core/dist/index.js`);
  const registryPackage = await import(`${root}/apps/registry/dist/index.js`);
  const { BatchedChunks, ModelCatalog } = core;

  /** The core's provider contract, answering every call from memory. */
  class InstantProvider extends ModelCatalog {
    id = "instant";
    label = "Instant";
    url = "http://127.0.0.1";
    working = true;
    supportsStream = true;
    supportsSystemMessage = true;
    supportsMessageHistory = true;
    needsAuth = false;

    constructor() {
      super({ label: "Instant", defaultModel: "gpt-4o-mini", chatModels: ["gpt-4o-mini"] });
    }

    createAsyncGenerator() {
      return new BatchedChunks(() => answer(core));
    }
  }

  const registry = await registryPackage.createRegistry({
    config: { logLevel: "silent", discovery: { installed: false } },
    discover: false,
    providers: [new InstantProvider()],
    logger: registryPackage.createLogger("silent"),
  });
  return { registry, registryPackage };
}
