import { type ModelCapabilities, samplingFeatures } from "@g4f-ts/provider-core";

/**
 * Everything AmigoChat serves, as one table: each chat and image model with the
 * persona id the upstream wants beside it, the aliases, and the default model.
 * Model ids are verbatim as the upstream spells them, trailing dashes included
 * (`o1-preview-`, `o1-mini-`).
 *
 * Note the alias trap kept from the reference: `gpt-4o` is a model of its own
 * (persona `summarizer`) and also an alias of `gpt-4o-2024-11-20`. Aliases are
 * looked at first, so asking for `gpt-4o` reaches `gpt-4o-2024-11-20`.
 */
export const amigoChatModelTable = {
  defaultModel: "gpt-4o-mini",
  /**
   * The image model of a request that names none (g4f's `default_image_model`): the
   * seed's examples draw with it, and the first image model (`flux-pro/v1.1`) needs
   * a paid balance.
   */
  defaultImageModel: "flux-realism",
  /** Chat model id -> persona id. */
  chatModels: {
    "gpt-4o-2024-11-20": "gpt",
    "gpt-4o": "summarizer",
    "gpt-4o-mini": "amigo",
    "o1-preview-": "openai-o-one",
    "o1-preview-2024-09-12-": "orion",
    "o1-mini-": "openai-o-one-mini",
    "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo": "llama-three-point-one",
    "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo": "llama-3-2",
    "codellama/CodeLlama-34b-Instruct-hf": "codellama-CodeLlama-34b-Instruct-hf",
    "gemini-1.5-pro": "gemini-1-5-pro",
    "gemini-1.5-flash": "gemini-1.5-flash",
    "claude-3-5-sonnet-20240620": "claude",
    "claude-3-5-sonnet-20241022": "clude-claude-3-5-sonnet-20241022",
    "claude-3-5-haiku-latest": "3-5-haiku",
    "Qwen/Qwen2.5-72B-Instruct-Turbo": "qwen-2-5",
    "google/gemma-2b-it": "google-gemma-2b-it",
    "google/gemma-7b": "google-gemma-7b",
    "Gryphe/MythoMax-L2-13b": "Gryphe-MythoMax-L2-13b",
    "mistralai/Mistral-7B-Instruct-v0.3": "mistralai-Mistral-7B-Instruct-v0.1",
    "mistralai/mistral-tiny": "mistralai-mistral-tiny",
    "mistralai/mistral-nemo": "mistralai-mistral-nemo",
    "deepseek-ai/deepseek-llm-67b-chat": "deepseek-ai-deepseek-llm-67b-chat",
    "databricks/dbrx-instruct": "databricks-dbrx-instruct",
    "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO": "NousResearch-Nous-Hermes-2-Mixtral-8x7B-DPO",
    "x-ai/grok-beta": "x-ai-grok-beta",
    "anthracite-org/magnum-v4-72b": "anthracite-org-magnum-v4-72b",
    "cohere/command-r-plus": "cohere-command-r-plus",
    "ai21/jamba-1-5-mini": "ai21-jamba-1-5-mini",
    "zero-one-ai/Yi-34B": "zero-one-ai-Yi-34B",
  },
  /** Image model id -> persona id. */
  imageModels: {
    "flux-pro/v1.1": "flux-1-1-pro",
    "flux-realism": "flux-realism",
    "flux-pro": "flux-pro",
    "flux-pro/v1.1-ultra": "flux-pro-v1.1-ultra",
    "flux-pro/v1.1-ultra-raw": "flux-pro-v1.1-ultra-raw",
    "flux/dev": "flux-dev",
    "dall-e-3": "dalle-three",
    "recraft-v3": "recraft",
  },
  /**
   * Friendly name -> model id. The reference listed `claude-3.5-sonnet` twice
   * (`…20240620`, then `…20241022`); as in Python, the later value is the one kept.
   */
  modelAliases: {
    "gpt-4o": "gpt-4o-2024-11-20",
    "gpt-4o-mini": "gpt-4o-mini",
    "llama-3.1-405b": "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo",
    "llama-3.2-90b": "meta-llama/Llama-3.2-90B-Vision-Instruct-Turbo",
    "codellama-34b": "codellama/CodeLlama-34b-Instruct-hf",
    "gemini-flash": "gemini-1.5-flash",
    "claude-3.5-sonnet": "claude-3-5-sonnet-20241022",
    "claude-3.5-haiku": "claude-3-5-haiku-latest",
    "qwen-2.5-72b": "Qwen/Qwen2.5-72B-Instruct-Turbo",
    "gemma-2b": "google/gemma-2b-it",
    "mythomax-13b": "Gryphe/MythoMax-L2-13b",
    "mixtral-7b": "mistralai/Mistral-7B-Instruct-v0.3",
    "mistral-nemo": "mistralai/mistral-nemo",
    "deepseek-chat": "deepseek-ai/deepseek-llm-67b-chat",
    "dbrx-instruct": "databricks/dbrx-instruct",
    "mixtral-8x7b-dpo": "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO",
    "grok-beta": "x-ai/grok-beta",
    "magnum-72b": "anthracite-org/magnum-v4-72b",
    "command-r-plus": "cohere/command-r-plus",
    "jamba-mini": "ai21/jamba-1-5-mini",
    "flux-dev": "flux/dev",
  },
} as const satisfies {
  defaultModel: string;
  defaultImageModel: string;
  chatModels: Readonly<Record<string, string>>;
  imageModels: Readonly<Record<string, string>>;
  modelAliases: Readonly<Record<string, string>>;
};

/** A chat model id of AmigoChat. */
export type AmigoChatChatModel = keyof typeof amigoChatModelTable.chatModels;
/** An image model id of AmigoChat. */
export type AmigoChatImageModel = keyof typeof amigoChatModelTable.imageModels;
/** Any model id of AmigoChat. */
export type AmigoChatModel = AmigoChatChatModel | AmigoChatImageModel;
/** An alias AmigoChat accepts in place of a model id. */
export type AmigoChatModelAlias = keyof typeof amigoChatModelTable.modelAliases;

/**
 * What every AmigoChat chat model honours, as the reference sends it: the five
 * sampling options (`temperature`, `top_p`, `max_tokens`, `frequency_penalty`,
 * `presence_penalty`) and text. The protocol as known carries `{ role, content }`
 * text messages and nothing else: no tools, no response format, no `n`, no image,
 * audio or file parts (the reference declares no vision model), so a call asking
 * for one is refused naming the field, and a registry routes it elsewhere.
 * Image models honour nothing beyond their prompt.
 */
export const amigoChatCapabilities: ModelCapabilities = Object.freeze<ModelCapabilities>({
  features: samplingFeatures,
  inputs: [],
  responseFormats: [],
});

const personaIds: Readonly<Record<string, string>> = {
  ...amigoChatModelTable.chatModels,
  ...amigoChatModelTable.imageModels,
};

/** The persona id of a model id of the table (no alias resolution), or undefined. */
export function findPersonaId(model: string): string | undefined {
  return Object.hasOwn(personaIds, model) ? personaIds[model] : undefined;
}
