import {
  fullModelCapabilities,
  type ProviderOptions,
  textModelCapabilities,
} from "@g4f-ts/provider-core";
import { describe, expect, it } from "vitest";
import { scriptedProvider } from "./__fixtures__/scripted-provider.js";
import { requestNeeds, routeByCapabilities } from "./capability-routing.js";
import {
  asksNothingOfModels,
  everyCandidateAsItIs,
  routedCandidates,
  routeTable,
} from "./chat-completions.js";
import { createRegistry } from "./registry.js";

async function candidatesOf() {
  const registry = await createRegistry({
    discover: false,
    config: { routing: { unsupportedFields: "drop" } },
    providers: [
      scriptedProvider({ id: "full", chatModels: ["m"], capabilities: fullModelCapabilities }),
      scriptedProvider({ id: "text", chatModels: ["m"], capabilities: textModelCapabilities }),
    ],
  });
  return registry.resolve("m", undefined, "chat");
}

function routesFor(candidates: Awaited<ReturnType<typeof candidatesOf>>, options: ProviderOptions) {
  const messages = [{ role: "user" as const, content: "Hi" }];
  return routeByCapabilities(candidates, requestNeeds(messages, options), options, {
    unsupportedFields: "drop",
    requestedModel: "m",
  });
}

describe("routedCandidates", () => {
  it("gives every candidate what the table by candidate gives it, when all take the request as it is", async () => {
    const candidates = await candidatesOf();
    const options: ProviderOptions = { stream: true, temperature: 0.2 };
    const routes = routesFor(candidates, options);
    const fast = routedCandidates(routes, options);
    const table = routeTable(routes, options);
    expect(fast.optionsFor).toBeUndefined();
    expect(fast.candidates).toEqual(table.candidates);
    for (const candidate of candidates) {
      // The run gives `options` to a candidate when `optionsFor` is left out.
      expect(fast.optionsFor?.(candidate) ?? options).toBe(table.optionsFor?.(candidate));
      expect(fast.droppedHeader(candidate)).toBe(table.droppedHeader(candidate));
    }
  });

  it("keeps the table by candidate when a candidate drops a field", async () => {
    const candidates = await candidatesOf();
    const options: ProviderOptions = {
      stream: true,
      tools: [{ type: "function", function: { name: "f", parameters: {} } }],
    };
    const routes = routesFor(candidates, options);
    const routed = routedCandidates(routes, options);
    expect(routed.optionsFor).toBeDefined();
    expect(routed.candidates.map((candidate) => candidate.entry.id)).toEqual(["full", "text"]);
    const [full, text] = routed.candidates;
    expect(routed.droppedHeader(full as never)).toBeUndefined();
    expect(routed.droppedHeader(text as never)).toContain("tools");
  });
});

describe("everyCandidateAsItIs", () => {
  // Requests of every shape the fast path could be asked about: it must take exactly
  // those whose routing gives every candidate the request as it is, and give the same.
  const requests: { name: string; options: ProviderOptions; content?: string }[] = [
    { name: "a plain request", options: { stream: true } },
    { name: "a plain request without stream", options: {} },
    { name: "temperature", options: { stream: true, temperature: 0.2 } },
    { name: "logprobs: false", options: { stream: true, logprobs: false } },
    { name: "logprobs: true", options: { stream: true, logprobs: true } },
    {
      name: "tools",
      options: {
        stream: true,
        tools: [{ type: "function", function: { name: "f", parameters: {} } }],
      },
    },
    {
      name: "a JSON response format",
      options: { stream: true, responseFormat: { type: "json_object" } },
    },
    { name: "an extra body field", options: { stream: true, extraBody: { store: true } } },
  ];

  for (const { name, options } of requests) {
    it(`routes ${name} as routeByCapabilities and routedCandidates do, when it takes it`, async () => {
      const candidates = await candidatesOf();
      const messages = [{ role: "user" as const, content: "Hi" }];
      const needs = requestNeeds(messages, options);
      const general = routedCandidates(routesFor(candidates, options), options);
      if (!asksNothingOfModels(needs, options)) {
        // Not taken: something a candidate may lack or drop, so the general path decides.
        expect(needs.length > 0 || options.logprobs === false).toBe(true);
        return;
      }
      const fast = everyCandidateAsItIs(candidates);
      expect(fast.candidates).toEqual(general.candidates);
      expect(fast.optionsFor).toBe(general.optionsFor);
      for (const candidate of candidates)
        expect(fast.droppedHeader(candidate)).toBe(general.droppedHeader(candidate));
    });
  }

  it("is taken by a plain request and by no request that asks for a field", () => {
    const messages = [{ role: "user" as const, content: "Hi" }];
    const taken = requests
      .filter(({ options }) => asksNothingOfModels(requestNeeds(messages, options), options))
      .map(({ name }) => name);
    expect(taken).toEqual(["a plain request", "a plain request without stream"]);
  });
});
