import {
  defineOptionsError,
  type HttpProviderOptions,
  type HttpProviderSettings,
  type ProviderOptions,
  readOptions,
} from "@g4f-ts/provider-core";
import {
  baseUrlSchema,
  httpProviderOptionsShape,
  providerBodyFields,
} from "@g4f-ts/provider-core/internal";
import { z } from "zod";
import {
  capabilitiesOptionSchema,
  type OpenAICompatibleCapabilitiesOptions,
} from "./openai-compatible-capabilities.js";

/**
 * Options of an `OpenAICompatible` instance. Only `baseUrl` is required.
 *
 * @example
 * new OpenAICompatible({ id: "ollama", baseUrl: "http://127.0.0.1:11434/v1" });
 * new OpenAICompatible({ id: "together", baseUrl: "https://api.together.xyz/v1", apiKeyEnv: "TOGETHER_API_KEY" });
 */
export interface OpenAICompatibleOptions extends HttpProviderOptions {
  /** The id in a registry (default `openai-compatible`). */
  id?: string;
  /** The name in messages and errors (default: the `id` when one is given, else `OpenAI-compatible`). */
  label?: string;
  /**
   * The API's base URL **with** its version segment, as the OpenAI SDK takes it:
   * `http://127.0.0.1:11434/v1` (Ollama), `http://127.0.0.1:8000/v1` (vLLM),
   * `https://api.openai.com/v1`. The provider appends `/chat/completions`,
   * `/images/generations` and `/models`. No query, fragment or credentials.
   */
  baseUrl: string;
  /** The API key, sent as `Authorization: Bearer <key>`. Never shown in an error. */
  apiKey?: string;
  /** The name of an environment variable holding the API key, read when the instance is made. */
  apiKeyEnv?: string;
  /** Extra headers for every request (an API key belongs in `apiKey`, which wins over an `authorization` here). */
  headers?: Record<string, string>;
  /**
   * A fixed model list. Without it the list is fetched from `GET {baseUrl}/models`
   * (see `refreshModels`) and kept for `modelsTtlMs`.
   */
  models?: readonly string[];
  /** How long a fetched model list stays fresh, in ms (default 300000, five minutes). */
  modelsTtlMs?: number;
  /** Friendly name -> the upstream's model id (`{ "llama": "llama3.1:8b" }`). */
  modelAliases?: Record<string, string>;
  /** The model of a call without one (default: the first model of the list). */
  defaultModel?: string;
  /** Models answered through `/images/generations` rather than `/chat/completions`. */
  imageModels?: readonly string[];
  /** Models answered through `/embeddings` (`createEmbeddings`); they are not chat models. */
  embeddingModels?: readonly string[];
  /**
   * How a registry answers `/v1/responses` with this instance: `translate` (default)
   * turns it into a chat call; `native` forwards it unchanged to the upstream's own
   * `POST {baseUrl}/responses` (OpenAI, or a server that implements the Responses API).
   */
  responsesApi?: "translate" | "native";
  /** The flag a registry reads to route to this instance (default true). */
  working?: boolean;
  /** Default: true when an API key is configured. */
  needsAuth?: boolean;
  /**
   * Ask for the usage of a streamed answer with `stream_options: { include_usage: true }`
   * (default true). Turn it off for an upstream that rejects unknown fields.
   */
  streamUsage?: boolean;
  /**
   * Fields added to every chat request body, for upstream-specific settings such as
   * Ollama's `{ "options": { "num_ctx": 8192 } }`. A call's own fields and its
   * `extraBody` win over them; `model`, `messages` and `stream` are the provider's
   * and may not be set here.
   */
  extraBody?: Record<string, unknown>;
  /**
   * What the models can do (default: everything, `fullModelCapabilities`): a call
   * that asks a model for what it lacks is refused naming the field, and a registry
   * routes such a request to another provider. `{ models: { "llama3": { without:
   * ["tools", "toolChoice", "parallelToolCalls"] } } }` says llama3 has no tool calls;
   * `{ default: { without: ["extraBody"] } }` stops forwarding fields the contract has
   * no name for.
   */
  capabilities?: OpenAICompatibleCapabilitiesOptions;
}

/**
 * An option of the constructor or of a call is not valid: `field` names it (a dotted
 * path such as `retry.maxAttempts`, or `apiKeyEnv`). Not retryable. Values are never
 * echoed: an API key, a header or a proxy URL may be a secret.
 */
export const OpenAICompatibleOptionsError = defineOptionsError("OpenAICompatibleOptionsError");
export type OpenAICompatibleOptionsError = InstanceType<typeof OpenAICompatibleOptionsError>;

const baseUrl = baseUrlSchema({
  credentials: false,
  problem:
    "must be a URL without a query, fragment or credentials (an API key goes in apiKey or apiKeyEnv)",
});

const modelNameSchema = z.string().trim().min(1, "must not be empty");
// Printable ASCII without spaces: a key read from a file with its newline would
// otherwise make an invalid header, and undici's message for that names the value.
const apiKeySchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");
const headerNameSchema = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be a valid HTTP header name");
const headerValueSchema = z
  .string()
  .regex(/^[^\r\n\0]*$/, "must not hold line breaks or NUL characters");

const instanceOptionsSchema = z.strictObject({
  id: z.string().trim().min(1).optional(),
  label: z.string().trim().min(1).optional(),
  baseUrl,
  apiKey: apiKeySchema.optional(),
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be the name of an environment variable")
    .optional(),
  headers: z.record(headerNameSchema, headerValueSchema).optional(),
  models: z.array(modelNameSchema).optional(),
  modelsTtlMs: z.number().min(0).finite().optional(),
  modelAliases: z.record(modelNameSchema, modelNameSchema).optional(),
  defaultModel: modelNameSchema.optional(),
  imageModels: z.array(modelNameSchema).optional(),
  embeddingModels: z.array(modelNameSchema).optional(),
  responsesApi: z.enum(["translate", "native"]).optional(),
  ...httpProviderOptionsShape,
  working: z.boolean().optional(),
  needsAuth: z.boolean().optional(),
  streamUsage: z.boolean().optional(),
  extraBody: z
    .record(z.string(), z.unknown())
    .superRefine((body, context) => {
      for (const key of Object.keys(body)) {
        if (providerBodyFields.has(key))
          context.addIssue({ code: "custom", path: [key], message: "is set by the provider" });
      }
    })
    .optional(),
  capabilities: capabilitiesOptionSchema.optional(),
});

/** The provider's own call options, beside the common ones (null counts as absent). */
export const openAICompatibleCallOptionsShape = {
  size: z.string().trim().min(1).nullish(),
};

/** The options of one call: the common ones, plus the image size. */
export interface OpenAICompatibleCallOptions extends ProviderOptions {
  /** Choices of a chat model, or images of an image model, sent as `n` (default: the upstream's). */
  n?: number;
  /** The image size, such as `1024x1024`, sent as `size` (default: the upstream's). */
  size?: string;
  /** Fields added to this call's chat body verbatim, over the instance's `extraBody`. */
  extraBody?: Record<string, unknown>;
}

/** The defaults of a call. */
export const openAICompatibleCallDefaults = {
  /** As g4f's OpenAI template: a call streams only when asked to. */
  stream: false,
} as const;

function optionsError(provider: string, field: string, detail: string, what = "option") {
  return new OpenAICompatibleOptionsError({
    provider,
    field,
    message: `${provider}: invalid ${what} "${field}": ${detail}`,
  });
}

// Headers whose values are credentials: scrubbed from what an upstream echoes back.
const secretHeaderPattern = /authorization|cookie|api-?key|token|secret/i;

/** The settled configuration of an instance, after validation and defaults. */
export interface OpenAICompatibleSettings extends HttpProviderSettings {
  id: string;
  label: string;
  /** The base URL without trailing slashes. */
  baseUrl: string;
  /** Every header a request sends, names in lowercase, `authorization` from the key included. */
  headers: Record<string, string>;
  /** Values to scrub from error messages: the key and every credential-like header value. */
  secrets: string[];
  hasApiKey: boolean;
  /** The fixed list, or undefined when the list is fetched. */
  models: string[] | undefined;
  modelsTtlMs: number;
  modelAliases: Record<string, string>;
  defaultModel: string | undefined;
  imageModels: string[];
  embeddingModels: string[];
  responsesApi: "translate" | "native";
  working: boolean;
  needsAuth: boolean;
  streamUsage: boolean;
  extraBody: Record<string, unknown>;
  capabilities: OpenAICompatibleCapabilitiesOptions;
}

export const defaultModelsTtlMs = 5 * 60 * 1000;
const defaultLabel = "OpenAI-compatible";

/**
 * Validate constructor options (an unknown key is an error, with the closest option
 * name as a hint: a misspelt `apiKey` would otherwise fail later as a 401), read the
 * key from `apiKeyEnv`, and check a fixed model list against `defaultModel` and the
 * alias targets.
 */
export function parseOpenAICompatibleOptions(
  options: unknown,
  environment: NodeJS.ProcessEnv = process.env,
): OpenAICompatibleSettings {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new OpenAICompatibleOptionsError({
      provider: defaultLabel,
      field: "(options)",
      message: `${defaultLabel}: the options must be an object with at least a baseUrl`,
    });
  }
  const record = options as Record<string, unknown>;
  const provisionalLabel =
    typeof record.label === "string" && record.label.trim() !== ""
      ? record.label.trim()
      : typeof record.id === "string" && record.id.trim() !== ""
        ? record.id.trim()
        : defaultLabel;
  if (record.baseUrl === undefined) {
    throw optionsError(
      provisionalLabel,
      "baseUrl",
      "is required: the API's base URL, version included, such as http://127.0.0.1:11434/v1",
    );
  }
  const parsed = readOptions(instanceOptionsSchema, options, {
    provider: provisionalLabel,
    what: "option",
    error: OpenAICompatibleOptionsError,
  });
  const label = parsed.label ?? parsed.id ?? defaultLabel;

  if (parsed.apiKey !== undefined && parsed.apiKeyEnv !== undefined) {
    throw optionsError(label, "apiKeyEnv", "set apiKey or apiKeyEnv, not both");
  }
  let apiKey = parsed.apiKey;
  if (parsed.apiKeyEnv !== undefined) {
    const fromEnvironment = environment[parsed.apiKeyEnv]?.trim();
    if (!fromEnvironment) {
      throw optionsError(
        label,
        "apiKeyEnv",
        `the environment variable ${parsed.apiKeyEnv} is not set (or empty)`,
      );
    }
    const checked = apiKeySchema.safeParse(fromEnvironment);
    if (!checked.success) {
      throw optionsError(
        label,
        "apiKeyEnv",
        `the value of ${parsed.apiKeyEnv} ${checked.error.issues[0]?.message ?? "is not a valid key"}`,
      );
    }
    apiKey = checked.data;
  }

  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(parsed.headers ?? {})) {
    headers[name.toLowerCase()] = value;
    if (secretHeaderPattern.test(name)) secrets.push(value.replace(/^(?:bearer|basic)\s+/i, ""));
  }
  if (apiKey !== undefined) {
    headers.authorization = `Bearer ${apiKey}`;
    secrets.push(apiKey);
  }

  const imageModels = unique(parsed.imageModels ?? []);
  const embeddingModels = unique(parsed.embeddingModels ?? []);
  const modelAliases = parsed.modelAliases ?? {};
  const models = parsed.models === undefined ? undefined : unique(parsed.models);
  if (models !== undefined) {
    const served = new Set([...models, ...imageModels, ...embeddingModels]);
    if (served.size === 0) {
      throw optionsError(label, "models", "a fixed list needs at least one model");
    }
    if (parsed.defaultModel !== undefined && !served.has(parsed.defaultModel)) {
      throw optionsError(label, "defaultModel", "is not one of models or imageModels");
    }
    for (const [alias, target] of Object.entries(modelAliases)) {
      if (!served.has(target)) {
        throw optionsError(
          label,
          `modelAliases.${alias}`,
          "points to a model that is not in models or imageModels",
        );
      }
    }
  }

  const hasApiKey = apiKey !== undefined;
  return {
    id: parsed.id ?? "openai-compatible",
    label,
    baseUrl: parsed.baseUrl.replace(/\/+$/, ""),
    headers,
    secrets,
    hasApiKey,
    models,
    modelsTtlMs: parsed.modelsTtlMs ?? defaultModelsTtlMs,
    modelAliases,
    defaultModel: parsed.defaultModel,
    imageModels,
    embeddingModels,
    responsesApi: parsed.responsesApi ?? "translate",
    timeouts: parsed.timeouts ?? {},
    proxy: parsed.proxy,
    retry: parsed.retry ?? {},
    working: parsed.working ?? true,
    needsAuth: parsed.needsAuth ?? hasApiKey,
    streamUsage: parsed.streamUsage ?? true,
    extraBody: parsed.extraBody ?? {},
    capabilities: parsed.capabilities ?? {},
  };
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}
