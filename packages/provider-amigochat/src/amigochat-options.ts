import {
  defineOptionsError,
  type HttpProviderOptions,
  type HttpProviderSettings,
  type ProviderOptions,
  readOptions,
} from "@g4f-ts/provider-core";
import {
  baseUrlSchema,
  type CallSettings,
  formatSchemaIssues,
  httpProviderOptionsShape,
} from "@g4f-ts/provider-core/internal";
import { z } from "zod";

/** Options of an `AmigoChat` instance, beside `proxy`, `retry` and `timeouts`. */
export interface AmigoChatOptions extends HttpProviderOptions {
  /** The id in a registry (default `amigochat`). */
  id?: string;
  /** The name in messages and errors (default `AmigoChat`). */
  label?: string;
  /**
   * The API origin, e.g. `http://127.0.0.1:8080`: the chat and image paths
   * (`/v1/chat/completions`, `/v1/images/generations`) are added to it. Without it,
   * `AMIGOCHAT_BASE_URL` from the environment (read when the instance is made), and
   * without that the real, long dead `https://api.amigochat.io`.
   */
  baseUrl?: string;
  /** Override `working` (default: true only when a base URL was configured). */
  working?: boolean;
}

/** The environment variable read for the base URL when the `baseUrl` option is absent. */
export const amigoChatBaseUrlVariable = "AMIGOCHAT_BASE_URL";

/**
 * An option of the constructor or of a call is not valid: `field` names it (a dotted
 * path such as `retry.maxAttempts`, or `AMIGOCHAT_BASE_URL`). Not retryable.
 * Values are never echoed: a proxy URL may carry credentials.
 */
export const AmigoChatOptionsError = defineOptionsError("AmigoChatOptionsError");
export type AmigoChatOptionsError = InstanceType<typeof AmigoChatOptionsError>;

const baseUrlOption = baseUrlSchema({ credentials: true });

const instanceOptionsSchema = z.object({
  id: z.string().trim().min(1).optional(),
  label: z.string().trim().min(1).optional(),
  baseUrl: baseUrlOption.optional(),
  ...httpProviderOptionsShape,
  working: z.boolean().optional(),
});

/** AmigoChat's own call options, beside the common ones (null counts as absent). */
export const amigoChatCallOptionsShape = {
  chatId: z.string().trim().min(1).nullish(),
};

/** The defaults of a call, as in the reference. */
export const amigoChatCallDefaults = {
  stream: false,
  /** Seconds the whole call may take, retries included. */
  timeout: 300,
  frequencyPenalty: 0,
  maxTokens: 4000,
  presencePenalty: 0,
  temperature: 0.5,
  topP: 0.95,
} as const;

/**
 * A call's sampling settings with the reference's defaults where the call set none
 * (null counts as none: a JSON request may send it).
 */
export function withAmigoChatDefaults(options: CallSettings<typeof amigoChatCallOptionsShape>) {
  return {
    stream: options.stream ?? amigoChatCallDefaults.stream,
    frequencyPenalty: options.frequencyPenalty ?? amigoChatCallDefaults.frequencyPenalty,
    maxTokens: options.maxTokens ?? amigoChatCallDefaults.maxTokens,
    presencePenalty: options.presencePenalty ?? amigoChatCallDefaults.presencePenalty,
    temperature: options.temperature ?? amigoChatCallDefaults.temperature,
    topP: options.topP ?? amigoChatCallDefaults.topP,
  };
}

/**
 * The options of one AmigoChat call: the common ones, plus `chatId`. g4f's
 * spellings (`max_tokens`, `top_p`, `frequency_penalty`, `presence_penalty`) are
 * honoured too; any other option is an `AmigoChatOptionsError` naming the closest.
 */
export interface AmigoChatCallOptions extends ProviderOptions {
  /** The conversation id sent as `chatId` (default: a fresh uuid per call, kept across retries). */
  chatId?: string;
}

/** The settled configuration of an instance, after validation and defaults. */
export interface AmigoChatSettings extends HttpProviderSettings {
  id: string;
  label: string;
  /** The configured base URL without trailing slashes, or undefined for the real service. */
  baseUrl: string | undefined;
  working: boolean | undefined;
}

/**
 * Validate constructor options (unknown keys are ignored: a registry's config may
 * carry its own) and settle the base URL from the option or the environment.
 */
export function parseAmigoChatOptions(
  options: unknown,
  environment: NodeJS.ProcessEnv = process.env,
): AmigoChatSettings {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new AmigoChatOptionsError({
      provider: "AmigoChat",
      field: "(options)",
      message: "AmigoChat: the options must be an object",
    });
  }
  const provisionalLabel =
    typeof (options as { label?: unknown } | undefined)?.label === "string"
      ? (options as { label: string }).label
      : "AmigoChat";
  const parsed = readOptions(instanceOptionsSchema, options, {
    provider: provisionalLabel,
    what: "option",
    error: AmigoChatOptionsError,
  });
  // Two instances (two upstreams) should be told apart in errors, so a custom id shows in the label.
  const label =
    parsed.label ??
    (parsed.id === undefined || parsed.id === "amigochat"
      ? "AmigoChat"
      : `AmigoChat (${parsed.id})`);
  let baseUrl = parsed.baseUrl;
  const fromEnvironment = environment[amigoChatBaseUrlVariable]?.trim();
  if (baseUrl === undefined && fromEnvironment) {
    const checked = baseUrlOption.safeParse(fromEnvironment);
    if (!checked.success) {
      throw new AmigoChatOptionsError({
        provider: label,
        field: amigoChatBaseUrlVariable,
        message: `${label}: invalid environment variable ${amigoChatBaseUrlVariable}: ${formatSchemaIssues(checked.error)}`,
      });
    }
    baseUrl = checked.data;
  }
  return {
    id: parsed.id ?? "amigochat",
    label,
    baseUrl: baseUrl?.replace(/\/+$/, ""),
    proxy: parsed.proxy,
    retry: parsed.retry ?? {},
    timeouts: parsed.timeouts ?? {},
    working: parsed.working,
  };
}
