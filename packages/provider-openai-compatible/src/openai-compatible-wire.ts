import {
  type Messages,
  type OpenAIRequestFieldsContext,
  type OpenAIRequestOptions,
  openAIRequestFields,
} from "@g4f-ts/provider-core";
import { z } from "zod";

/** The paths appended to the base URL (which carries the version, e.g. `/v1`), as the OpenAI SDK does. */
export const openAICompatiblePaths = {
  chat: "/chat/completions",
  images: "/images/generations",
  models: "/models",
} as const;

/**
 * The chat request body: the model, the messages exactly as given, `stream`, and
 * every call feature under its OpenAI name (`max_tokens`, `tools`, `tool_choice`,
 * `response_format`, …), plus the fields of `extraBody`.
 */
export interface OpenAICompatibleChatBody {
  model: string;
  messages: Messages;
  stream: boolean;
  stream_options?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface OpenAICompatibleChatParameters extends OpenAIRequestOptions {
  model: string;
  messages: Messages;
  stream: boolean;
  /** Ask for a usage chunk at the end of a stream (`stream_options.include_usage`). */
  streamUsage: boolean;
  /** The instance's `extraBody`: under every field of the call. */
  defaultBody?: Record<string, unknown> | undefined;
  /**
   * The call's options, whose features are read instead of this object's own: a
   * provider hands its call's options over as they are, rather than a copy of them
   * spread into these parameters.
   */
  features?: OpenAIRequestOptions;
}

/**
 * Build a chat body. Messages go exactly as given (every role, `tool_calls`,
 * `tool_call_id`, `name`, audio and file parts); every call feature the call set
 * goes under its OpenAI wire name with its value unchanged (`openAIRequestFields`),
 * the call's `extraBody` over them and the instance's `extraBody` under them. Unset
 * options are left out, so the upstream's own defaults apply (an Ollama model's
 * Modelfile, a vLLM generation config) rather than ours.
 */
export function openAICompatibleChatBody(
  parameters: OpenAICompatibleChatParameters,
  context?: OpenAIRequestFieldsContext,
): OpenAICompatibleChatBody {
  const body: OpenAICompatibleChatBody = {
    ...parameters.defaultBody,
    ...openAIRequestFields(parameters.features ?? parameters, context),
    model: parameters.model,
    messages: parameters.messages,
    stream: parameters.stream,
  };
  if (!parameters.stream) {
    // OpenAI refuses stream_options without a stream.
    delete body.stream_options;
  } else if (parameters.streamUsage) {
    const asked = body.stream_options;
    body.stream_options = {
      ...(typeof asked === "object" && asked !== null ? asked : {}),
      include_usage: true,
    };
  }
  return body;
}

/** The image request body; `n` and `size` only when the call set them. */
export interface OpenAICompatibleImageBody {
  model: string;
  prompt: string;
  n?: number;
  size?: string;
}

export function openAICompatibleImageBody(parameters: {
  model: string;
  prompt: string;
  n?: number | null | undefined;
  size?: string | null | undefined;
}): OpenAICompatibleImageBody {
  const body: OpenAICompatibleImageBody = { model: parameters.model, prompt: parameters.prompt };
  if (parameters.n != null) body.n = parameters.n;
  if (parameters.size != null) body.size = parameters.size;
  return body;
}

/**
 * The image answer, `{ data: [{ url } | { b64_json }] }`, read tolerantly: other
 * fields are ignored, `data` may be missing (the caller decides what that means), and
 * an `error` object in a 200 answer is kept so that it can become a typed error.
 */
export const openAICompatibleImageAnswerSchema = z.object({
  data: z
    .array(
      z.object({
        url: z.string().min(1).nullish(),
        b64_json: z.string().min(1).nullish(),
        revised_prompt: z.string().nullish(),
      }),
    )
    .nullish(),
  error: z.unknown().optional(),
});

export type OpenAICompatibleImageAnswer = z.infer<typeof openAICompatibleImageAnswerSchema>;

/**
 * The image URLs of an answer, in order: each `url`, or a `b64_json` as a PNG data URL
 * (the format OpenAI's image API sends unless asked for another).
 */
export function imageUrlsOf(answer: OpenAICompatibleImageAnswer): string[] {
  const urls: string[] = [];
  for (const image of answer.data ?? []) {
    if (image.url) urls.push(image.url);
    else if (image.b64_json) urls.push(`data:image/png;base64,${image.b64_json}`);
  }
  return urls;
}

/** The `ImageResponse` options of an answer: the first `revised_prompt`, when there is one. */
export function revisedPromptOf(answer: OpenAICompatibleImageAnswer): Record<string, unknown> {
  const revisedPrompt = answer.data?.find((image) => image.revised_prompt)?.revised_prompt;
  return revisedPrompt ? { revisedPrompt } : {};
}

/** `GET /models`: `{ data: [{ id }, …] }` (other fields of each model are ignored). */
export const openAICompatibleModelListSchema = z.object({
  data: z.array(z.object({ id: z.string().min(1) })),
});

export type OpenAICompatibleModelList = z.infer<typeof openAICompatibleModelListSchema>;
