import { ModelNotSupportedError } from "@g4f-ts/provider-core";
import { describe, expect, it } from "vitest";
import { amigoChatModelTable } from "./amigochat-models.js";
import { AmigoChat } from "./amigochat-provider.js";

// An independent copy of the wire document's persona table, so a typo in the
// provider's table cannot pass by agreeing with itself.
const chatPersonas: [string, string][] = [
  ["gpt-4o-2024-11-20", "gpt"],
  ["gpt-4o", "summarizer"],
  ["gpt-4o-mini", "amigo"],
  ["o1-preview-", "openai-o-one"],
  ["o1-preview-2024-09-12-", "orion"],
  ["o1-mini-", "openai-o-one-mini"],
  ["meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo", "llama-three-point-one"],
  ["meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo", "llama-3-2"],
  ["codellama/CodeLlama-34b-Instruct-hf", "codellama-CodeLlama-34b-Instruct-hf"],
  ["gemini-1.5-pro", "gemini-1-5-pro"],
  ["gemini-1.5-flash", "gemini-1.5-flash"],
  ["claude-3-5-sonnet-20240620", "claude"],
  ["claude-3-5-sonnet-20241022", "clude-claude-3-5-sonnet-20241022"],
  ["claude-3-5-haiku-latest", "3-5-haiku"],
  ["Qwen/Qwen2.5-72B-Instruct-Turbo", "qwen-2-5"],
  ["google/gemma-2b-it", "google-gemma-2b-it"],
  ["google/gemma-7b", "google-gemma-7b"],
  ["Gryphe/MythoMax-L2-13b", "Gryphe-MythoMax-L2-13b"],
  ["mistralai/Mistral-7B-Instruct-v0.3", "mistralai-Mistral-7B-Instruct-v0.1"],
  ["mistralai/mistral-tiny", "mistralai-mistral-tiny"],
  ["mistralai/mistral-nemo", "mistralai-mistral-nemo"],
  ["deepseek-ai/deepseek-llm-67b-chat", "deepseek-ai-deepseek-llm-67b-chat"],
  ["databricks/dbrx-instruct", "databricks-dbrx-instruct"],
  ["NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO", "NousResearch-Nous-Hermes-2-Mixtral-8x7B-DPO"],
  ["x-ai/grok-beta", "x-ai-grok-beta"],
  ["anthracite-org/magnum-v4-72b", "anthracite-org-magnum-v4-72b"],
  ["cohere/command-r-plus", "cohere-command-r-plus"],
  ["ai21/jamba-1-5-mini", "ai21-jamba-1-5-mini"],
  ["zero-one-ai/Yi-34B", "zero-one-ai-Yi-34B"],
];

const imagePersonas: [string, string][] = [
  ["flux-pro/v1.1", "flux-1-1-pro"],
  ["flux-realism", "flux-realism"],
  ["flux-pro", "flux-pro"],
  ["flux-pro/v1.1-ultra", "flux-pro-v1.1-ultra"],
  ["flux-pro/v1.1-ultra-raw", "flux-pro-v1.1-ultra-raw"],
  ["flux/dev", "flux-dev"],
  ["dall-e-3", "dalle-three"],
  ["recraft-v3", "recraft"],
];

const aliases: [string, string][] = [
  ["gpt-4o", "gpt-4o-2024-11-20"],
  ["gpt-4o-mini", "gpt-4o-mini"],
  ["llama-3.1-405b", "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo"],
  ["llama-3.2-90b", "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo"],
  ["codellama-34b", "codellama/CodeLlama-34b-Instruct-hf"],
  ["gemini-flash", "gemini-1.5-flash"],
  ["claude-3.5-sonnet", "claude-3-5-sonnet-20241022"],
  ["claude-3.5-haiku", "claude-3-5-haiku-latest"],
  ["qwen-2.5-72b", "Qwen/Qwen2.5-72B-Instruct-Turbo"],
  ["gemma-2b", "google/gemma-2b-it"],
  ["mythomax-13b", "Gryphe/MythoMax-L2-13b"],
  ["mixtral-7b", "mistralai/Mistral-7B-Instruct-v0.3"],
  ["mistral-nemo", "mistralai/mistral-nemo"],
  ["deepseek-chat", "deepseek-ai/deepseek-llm-67b-chat"],
  ["dbrx-instruct", "databricks/dbrx-instruct"],
  ["mixtral-8x7b-dpo", "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO"],
  ["grok-beta", "x-ai/grok-beta"],
  ["magnum-72b", "anthracite-org/magnum-v4-72b"],
  ["command-r-plus", "cohere/command-r-plus"],
  ["jamba-mini", "ai21/jamba-1-5-mini"],
  ["flux-dev", "flux/dev"],
];

const provider = new AmigoChat({ baseUrl: "http://127.0.0.1:9" });

describe("the model table", () => {
  it("lists the 29 chat models and 8 image models of the wire document, in its order", () => {
    expect(provider.chatModels).toEqual(chatPersonas.map(([model]) => model));
    expect(provider.imageModels).toEqual(imagePersonas.map(([model]) => model));
    expect(provider.models).toEqual([...provider.chatModels, ...provider.imageModels]);
    expect(provider.getModels()).toHaveLength(37);
  });

  it("keeps the upstream's ids verbatim, trailing dashes included", () => {
    expect(provider.chatModels).toContain("o1-preview-");
    expect(provider.chatModels).toContain("o1-preview-2024-09-12-");
    expect(provider.chatModels).toContain("o1-mini-");
    expect(provider.chatModels).not.toContain("o1-mini");
  });

  it("has gpt-4o-mini as its default model", () => {
    expect(provider.defaultModel).toBe("gpt-4o-mini");
    expect(provider.getModel(undefined)).toBe("gpt-4o-mini");
    expect(provider.getModel("")).toBe("gpt-4o-mini");
  });

  it("holds the 21 aliases of the reference, each pointing at a model of the table", () => {
    expect(Object.entries(provider.modelAliases)).toEqual(aliases);
    for (const target of Object.values(amigoChatModelTable.modelAliases)) {
      expect(provider.models).toContain(target);
    }
  });

  it.each(aliases)("resolves the alias %s to %s", (alias, target) => {
    expect(provider.getModel(alias)).toBe(target);
  });

  it("looks at aliases first, so gpt-4o reaches gpt-4o-2024-11-20 although gpt-4o is a model", () => {
    expect(provider.models).toContain("gpt-4o");
    expect(provider.getModel("gpt-4o")).toBe("gpt-4o-2024-11-20");
  });

  it("keeps the later of the reference's two claude-3.5-sonnet aliases", () => {
    expect(provider.getModel("claude-3.5-sonnet")).toBe("claude-3-5-sonnet-20241022");
  });

  it("returns a model id of the table unchanged", () => {
    expect(provider.getModel("zero-one-ai/Yi-34B")).toBe("zero-one-ai/Yi-34B");
  });

  it("rejects an unknown model with ModelNotSupportedError naming close names", () => {
    expect(() => provider.getModel("gpt-4o-mimi")).toThrow(ModelNotSupportedError);
    try {
      provider.getModel("flux-realsm");
    } catch (error) {
      expect((error as ModelNotSupportedError).suggestions).toContain("flux-realism");
      expect((error as Error).message).toContain('"flux-realsm" is not supported by AmigoChat');
    }
  });
});

describe("getPersonaId", () => {
  it.each([...chatPersonas, ...imagePersonas])("gives %s the persona id %s", (model, persona) => {
    expect(provider.getPersonaId(model)).toBe(persona);
    expect(AmigoChat.getPersonaId(model)).toBe(persona);
  });

  it("takes model ids, not aliases: gpt-4o is the summarizer model", () => {
    expect(provider.getPersonaId("gpt-4o")).toBe("summarizer");
    expect(provider.getPersonaId(provider.getModel("gpt-4o"))).toBe("gpt");
  });

  it("rejects an alias or an unknown name with ModelNotSupportedError", () => {
    expect(() => provider.getPersonaId("claude-3.5-sonnet")).toThrow(ModelNotSupportedError);
    expect(() => AmigoChat.getPersonaId("nope")).toThrow(
      'Model "nope" is not a model id of AmigoChat, so it has no persona id',
    );
    expect(() => provider.getPersonaId("constructor")).toThrow(ModelNotSupportedError);
  });
});

describe("generateChatId", () => {
  it("makes lowercase 8-4-4-4-12 uuids (v4), a new one each time", () => {
    const ids = new Set<string>();
    for (let index = 0; index < 50; index++) {
      const id = index % 2 === 0 ? provider.generateChatId() : AmigoChat.generateChatId();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(50);
  });
});
