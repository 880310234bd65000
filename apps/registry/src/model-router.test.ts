import { describe, expect, it } from "vitest";
import { scriptedProvider } from "./__fixtures__/scripted-provider.js";
import type { HttpError } from "./http-errors.js";
import { createRegistry } from "./registry.js";

const alpha = scriptedProvider({
  id: "alpha",
  chatModels: [
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-4o-2024-11-20",
    "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo",
  ],
  imageModels: ["flux/dev"],
  modelAliases: {
    "gpt-4o": "gpt-4o-2024-11-20",
    "llama-3.1-405b": "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo",
    "flux-dev": "flux/dev",
  },
});
const beta = scriptedProvider({ id: "beta", chatModels: ["gpt-4o-mini", "llama3:8b"] });
const gamma = scriptedProvider({ id: "gamma", chatModels: ["gpt-4o-mini"], working: false });

async function router(
  options: {
    strategy?: "priority" | "shuffle";
    random?: () => number;
    priorities?: Record<string, number>;
  } = {},
) {
  const registry = await createRegistry({
    discover: false,
    config: { routing: { strategy: options.strategy ?? "priority" } },
    providers: [alpha, beta, gamma].map((provider) => ({
      provider,
      priority: options.priorities?.[provider.id],
    })),
    random: options.random,
  });
  return registry.router;
}

function route(candidates: readonly { entry: { id: string }; model: string }[]) {
  return candidates.map((candidate) => `${candidate.entry.id}:${candidate.model}`);
}

function errorOf(run: () => unknown): HttpError {
  try {
    run();
  } catch (error) {
    return error as HttpError;
  }
  throw new Error("expected an HttpError");
}

describe("ModelRouter", () => {
  it("resolves a model to every enabled provider that serves it, in discovery order", async () => {
    const table = await router();
    expect(route(table.resolve("gpt-4o-mini", undefined, "chat"))).toEqual([
      "alpha:gpt-4o-mini",
      "beta:gpt-4o-mini",
    ]);
  });

  it("resolves an alias to the provider's own model id (aliases win, as in g4f)", async () => {
    const table = await router();
    expect(route(table.resolve("gpt-4o", undefined, "chat"))).toEqual(["alpha:gpt-4o-2024-11-20"]);
    expect(route(table.resolve("llama-3.1-405b", undefined, "chat"))).toEqual([
      "alpha:meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo",
    ]);
  });

  it("keeps model ids with a slash or a colon whole", async () => {
    const table = await router();
    expect(
      route(table.resolve("meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo", undefined, "chat")),
    ).toEqual(["alpha:meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo"]);
    expect(route(table.resolve("llama3:8b", undefined, "chat"))).toEqual(["beta:llama3:8b"]);
  });

  it("pins a provider by a `<provider id>:<model>` prefix, split at the first colon only", async () => {
    const table = await router();
    expect(route(table.resolve("beta:gpt-4o-mini", undefined, "chat"))).toEqual([
      "beta:gpt-4o-mini",
    ]);
    expect(route(table.resolve("beta:llama3:8b", undefined, "chat"))).toEqual(["beta:llama3:8b"]);
    expect(
      route(
        table.resolve("alpha:meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo", undefined, "chat"),
      ),
    ).toEqual(["alpha:meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo"]);
    expect(route(table.resolve("alpha/gpt-4o", undefined, "chat"))).toEqual([
      "alpha:gpt-4o-2024-11-20",
    ]);
  });

  it("pins a provider given apart from the model (body field or path)", async () => {
    const table = await router();
    expect(route(table.resolve("gpt-4o-mini", "beta", "chat"))).toEqual(["beta:gpt-4o-mini"]);
    expect(route(table.resolve("beta:gpt-4o-mini", "beta", "chat"))).toEqual(["beta:gpt-4o-mini"]);
    expect(route(table.resolve(undefined, "alpha", "chat"))).toEqual(["alpha:gpt-4o-mini"]);
  });

  it("routes a model name that is a provider id to that provider's default model", async () => {
    const table = await router();
    expect(route(table.resolve("beta", undefined, "chat"))).toEqual(["beta:gpt-4o-mini"]);
    expect(route(table.resolve("alpha", undefined, "image"))).toEqual(["alpha:flux/dev"]);
  });

  it("orders candidates by priority before discovery order", async () => {
    const table = await router({ priorities: { beta: 10 } });
    expect(route(table.resolve("gpt-4o-mini", undefined, "chat"))).toEqual([
      "beta:gpt-4o-mini",
      "alpha:gpt-4o-mini",
    ]);
  });

  it("shuffles providers of equal priority with the shuffle strategy", async () => {
    const table = await router({ strategy: "shuffle", random: () => 0 });
    expect(route(table.resolve("gpt-4o-mini", undefined, "chat"))).toEqual([
      "beta:gpt-4o-mini",
      "alpha:gpt-4o-mini",
    ]);
  });

  it("routes images to image models only", async () => {
    const table = await router();
    expect(route(table.resolve("flux-dev", undefined, "image"))).toEqual(["alpha:flux/dev"]);
    expect(errorOf(() => table.resolve("gpt-4o-mini", undefined, "image")).code).toBe(
      "model_not_found",
    );
    expect(errorOf(() => table.resolve("gpt-4o-mini", "alpha", "image")).status).toBe(404);
  });

  it("answers 404 model_not_found with close names for an unknown model", async () => {
    const table = await router();
    const error = errorOf(() => table.resolve("gpt-4o-mimi", undefined, "chat"));
    expect(error.status).toBe(404);
    expect(error.code).toBe("model_not_found");
    expect(error.message).toContain('"gpt-4o-mini"');
  });

  it("leaves out a provider that is not working unless it is enabled", async () => {
    const table = await router();
    expect(route(table.resolve("gpt-4o-mini", undefined, "chat"))).not.toContain(
      "gamma:gpt-4o-mini",
    );
    const error = errorOf(() => table.resolve("gpt-4o-mini", "gamma", "chat"));
    expect(error.code).toBe("provider_disabled");
    expect(errorOf(() => table.resolve("gpt-4o-mini", "delta", "chat")).code).toBe(
      "provider_not_found",
    );
  });

  it("answers 404 when a pinned provider does not serve the model", async () => {
    const table = await router();
    const error = errorOf(() => table.resolve("llama3:8b", "alpha", "chat"));
    expect(error.status).toBe(404);
    expect(error.message).toContain('"alpha" does not serve the model "llama3:8b"');
  });

  it("accepts g4f's provider names: the label in any case, as a pin and as a model prefix", async () => {
    const amigo = scriptedProvider({
      id: "amigochat",
      label: "AmigoChat",
      chatModels: ["gpt-4o-mini", "gpt-4o-2024-11-20"],
      modelAliases: { "gpt-4o": "gpt-4o-2024-11-20" },
    });
    const registry = await createRegistry({
      discover: false,
      providers: [{ provider: beta }, { provider: amigo }],
    });
    const table = registry.router;
    expect(route(table.resolve("gpt-4o-mini", "AmigoChat", "chat"))).toEqual([
      "amigochat:gpt-4o-mini",
    ]);
    expect(route(table.resolve("gpt-4o", "amigochat", "chat"))).toEqual([
      "amigochat:gpt-4o-2024-11-20",
    ]);
    expect(route(table.resolve("AmigoChat:gpt-4o", undefined, "chat"))).toEqual([
      "amigochat:gpt-4o-2024-11-20",
    ]);
    expect(route(table.resolve("AMIGOCHAT:gpt-4o-mini", undefined, "chat"))).toEqual([
      "amigochat:gpt-4o-mini",
    ]);
    expect(route(table.resolve("AmigoChat:gpt-4o", "AmigoChat", "chat"))).toEqual([
      "amigochat:gpt-4o-2024-11-20",
    ]);
  });

  it("tries a space-separated provider list in its order, leaving out those that do not serve the model", async () => {
    const table = await router();
    expect(route(table.resolve("gpt-4o-mini", "beta alpha", "chat"))).toEqual([
      "beta:gpt-4o-mini",
      "alpha:gpt-4o-mini",
    ]);
    expect(route(table.resolve("llama3:8b", "alpha  beta", "chat"))).toEqual(["beta:llama3:8b"]);
    expect(errorOf(() => table.resolve("gpt-4o-mini", "beta nobody", "chat")).code).toBe(
      "provider_not_found",
    );
    expect(errorOf(() => table.resolve("nothing-here", "alpha beta", "chat")).status).toBe(404);
  });

  it("answers a pinned image request without a model with the provider's default image model", async () => {
    const images = scriptedProvider({
      id: "images",
      chatModels: ["chat-1"],
      imageModels: ["flux-pro/v1.1", "flux-realism"],
      defaultImageModel: "flux-realism",
    });
    const registry = await createRegistry({ discover: false, providers: [{ provider: images }] });
    expect(route(registry.router.resolve(undefined, "images", "image"))).toEqual([
      "images:flux-realism",
    ]);
  });

  it("lists every routable name with the provider tried first", async () => {
    const table = await router();
    const names = table.listing.map((listing) => listing.name);
    expect(names).toEqual(
      expect.arrayContaining(["gpt-4o", "llama-3.1-405b", "flux-dev", "llama3:8b"]),
    );
    expect(table.listing.find((listing) => listing.name === "gpt-4o-mini")).toEqual({
      name: "gpt-4o-mini",
      ownedBy: "alpha",
      providers: ["alpha", "beta"],
      kind: "chat",
    });
  });
});
