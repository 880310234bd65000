import type { CallControl, callControlKey } from "./call-control.js";
import type { Messages, ToolDefinition } from "./messages.js";
import type { ProviderModelMixin } from "./model-resolution.js";
import type { AsyncResult } from "./response-chunks.js";

/**
 * Options of one call. Sampling fields use TypeScript casing; providers map them to
 * their wire names. A provider with extras of its own extends this interface; an
 * option a provider does not know is an `InvalidOptionsError` naming the closest
 * known one, so a misspelled `temprature` neither compiles nor passes silently.
 */
export interface ProviderOptions {
  /** Ask the upstream to stream (default: the provider's own default). */
  stream?: boolean;
  /** Seconds the whole call may take. */
  timeout?: number;
  /** An `http://` (or `https://`) proxy URL the request goes through. */
  proxy?: string;
  /** Cancels the call and closes its socket at once. */
  signal?: AbortSignal;
  /**
   * A cheaper stand-in for `signal` that a router hands down (see `CallControl` and
   * `withCallControl`): the call's cancellation, and the timer its deadlines share
   * with the router's. Under a symbol key, so that a provider that refuses options it
   * does not know is not refused it. A provider of this core honours it and leaves
   * `signal` (then the control's own, made when read) unread; any other provider
   * reads `signal` as before.
   */
  [callControlKey]?: CallControl;
  temperature?: number;
  topP?: number;
  /** The legacy token limit (`max_tokens`). */
  maxTokens?: number;
  /** The newer token limit (`max_completion_tokens`), which o-series and gpt-5 upstreams require instead. */
  maxCompletionTokens?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** Up to four sequences where the model stops. */
  stop?: string | string[];
  seed?: number;
  /** How many choices to make; a provider that honours more than one yields each choice's chunks in a `ChoiceChunk`. */
  n?: number;
  /** The end user, for the upstream's abuse monitoring. */
  user?: string;
  metadata?: Record<string, string>;
  /** Token id -> bias from -100 to 100. */
  logitBias?: Record<string, number>;
  logprobs?: boolean;
  topLogprobs?: number;
  /** `minimal`, `low`, `medium`, `high` (or an upstream's own word). */
  reasoningEffort?: string;
  serviceTier?: string;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  /**
   * Request fields a provider forwards verbatim under their wire names
   * (`{ "prediction": … }`): what the contract has no name for. A provider that
   * cannot forward them does not list `extraBody` among its features.
   */
  extraBody?: Record<string, unknown>;
}

/** Which tool the model must call: none, any it likes, at least one, or a named function. */
export type ToolChoice =
  | "none"
  | "auto"
  | "required"
  | { type: "function"; function: { name: string } };

/** The shape of the answer: text, any JSON object, or JSON held to a schema. */
export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | {
      type: "json_schema";
      json_schema: {
        name: string;
        description?: string;
        schema?: Record<string, unknown>;
        strict?: boolean | null;
      };
    };

/** The provider interface, g4f's `AsyncGeneratorProvider` in TypeScript casing. */
export interface AsyncGeneratorProvider {
  /** A stable id, unique in a registry (`amigochat`, `ollama`, …). */
  readonly id: string;
  /** The human name (`AmigoChat`). */
  readonly label: string;
  /** The service's site. */
  readonly url: string;
  /** False for a provider known to be broken; a registry leaves it out unless enabled explicitly. */
  readonly working: boolean;
  readonly supportsStream: boolean;
  readonly supportsSystemMessage: boolean;
  readonly supportsMessageHistory: boolean;
  readonly needsAuth: boolean;
  /**
   * Answer a conversation: text deltas as strings, and response chunks
   * (`ImageResponse`, `FinishReason`, `Usage`). Errors are `ProviderError`s.
   */
  createAsyncGenerator(model: string, messages: Messages, options?: ProviderOptions): AsyncResult;
}

/** A provider with its model knowledge: what a registry routes to. */
export type Provider = AsyncGeneratorProvider & ProviderModelMixin;

/**
 * What a provider package's entry module exports as `providerPlugin`, so that a
 * registry can discover it. The package names its entry module in its
 * `package.json`: `"g4f-ts": { "provider": "./dist/index.js" }`.
 */
export interface ProviderPlugin {
  /** The default id of instances (`amigochat`). */
  readonly name: string;
  /** One provider instance; `options` come from the registry's config (`id`, `baseUrl`, …). */
  createProvider(options?: Record<string, unknown>): Provider;
  /**
   * True when the plugin has no sensible instance without options (it needs a base
   * URL, say): a registry then creates it only from a config entry.
   */
  readonly requiresOptions?: boolean;
}

/** The field of `package.json` where a provider package declares its entry module. */
export const providerPackageField = "g4f-ts";

/** Declare a provider plugin with its types checked. */
export function defineProviderPlugin(plugin: ProviderPlugin): ProviderPlugin {
  return plugin;
}

const providerKeys = [
  ["id", "string"],
  ["label", "string"],
  ["url", "string"],
  ["working", "boolean"],
  ["supportsStream", "boolean"],
  ["supportsSystemMessage", "boolean"],
  ["supportsMessageHistory", "boolean"],
  ["needsAuth", "boolean"],
  ["defaultModel", "string"],
  ["createAsyncGenerator", "function"],
  ["getModels", "function"],
  ["getModel", "function"],
] as const;

/**
 * What is wrong with a value that should be a `Provider`: one line per missing or
 * mistyped member, empty when it satisfies the contract. A registry reports these
 * for a plugin it skips.
 */
export function providerContractViolations(value: unknown): string[] {
  if (typeof value !== "object" || value === null) return ["is not an object"];
  const record = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const [key, type] of providerKeys) {
    if (typeof record[key] !== type)
      problems.push(`${key} should be a ${type}, got ${typeof record[key]}`);
  }
  for (const key of ["models", "chatModels", "imageModels"]) {
    if (!Array.isArray(record[key])) problems.push(`${key} should be an array`);
  }
  if (record.defaultImageModel !== undefined && typeof record.defaultImageModel !== "string") {
    problems.push(`defaultImageModel should be a string, got ${typeof record.defaultImageModel}`);
  }
  if (typeof record.modelAliases !== "object" || record.modelAliases === null) {
    problems.push("modelAliases should be an object");
  }
  return problems;
}

/** True when a value satisfies the `Provider` contract. */
export function isProvider(value: unknown): value is Provider {
  return providerContractViolations(value).length === 0;
}
