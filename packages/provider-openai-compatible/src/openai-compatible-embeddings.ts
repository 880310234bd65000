import {
  CallDeadline,
  type EmbeddingInput,
  type EmbeddingOptions,
  type Embeddings,
  EmbeddingsResponse,
  type EmbeddingVector,
  float32Base64,
  float32FromBase64,
  InvalidResponseError,
  postJson,
  readJson,
  readOptions,
  withRetries,
} from "@g4f-ts/provider-core";
import { defaultHttpTimeouts, errorFromPayload } from "@g4f-ts/provider-core/internal";
import { z } from "zod";
import { refineUpstreamError } from "./openai-compatible-errors.js";
import {
  OpenAICompatibleOptionsError,
  type OpenAICompatibleSettings,
} from "./openai-compatible-options.js";

/** The embeddings path, appended to the base URL as the OpenAI SDK does. */
export const openAICompatibleEmbeddingsPath = "/embeddings";

/** The embeddings request body under OpenAI's names; optional fields only when set. */
export interface OpenAICompatibleEmbeddingsBody {
  model: string;
  input: EmbeddingInput;
  encoding_format?: "float" | "base64";
  dimensions?: number;
  user?: string;
}

const embeddingOptionsSchema = z.strictObject({
  encodingFormat: z.enum(["float", "base64"]).nullish(),
  dimensions: z.int().min(1).nullish(),
  user: z.string().nullish(),
  timeout: z.number().positive().finite().nullish(),
  signal: z.instanceof(AbortSignal).nullish(),
});

const embeddingInputSchema = z.union([
  z.string(),
  z.array(z.string()).min(1),
  z.array(z.int()).min(1),
  z.array(z.array(z.int()).min(1)).min(1),
]);

/**
 * The answer, `{ data: [{ embedding, index }], model, usage }`, read tolerantly:
 * other fields are ignored, and an `error` object in a 200 answer is kept so that it
 * becomes a typed error.
 */
export const openAICompatibleEmbeddingsAnswerSchema = z.object({
  data: z
    .array(
      z.object({
        embedding: z.union([z.array(z.number()), z.string()]),
        index: z.int().min(0).optional(),
      }),
    )
    .nullish(),
  model: z.string().nullish(),
  usage: z
    .object({ prompt_tokens: z.number().nullish(), total_tokens: z.number().nullish() })
    .nullish(),
  error: z.unknown().optional(),
});

/** How many vectors an input asks for: one per text or per token list. */
export function embeddingInputCount(input: EmbeddingInput): number {
  if (typeof input === "string") return 1;
  if (input.length > 0 && typeof input[0] === "number") return 1;
  return input.length;
}

/**
 * Embed `input` on an OpenAI-compatible upstream: `POST {baseUrl}/embeddings`,
 * retried as a chat call is (never after an answer arrived), within the call's
 * deadline. `encodingFormat` is forwarded; an upstream that ignores it and sends
 * numbers gets them encoded here (little-endian float32, as OpenAI does), and one that
 * sends base64 unasked gets it decoded, so the caller always gets what it asked for.
 */
export async function createOpenAICompatibleEmbeddings(
  settings: OpenAICompatibleSettings,
  model: string,
  input: EmbeddingInput,
  options: EmbeddingOptions = {},
): Promise<Embeddings> {
  const provider = settings.label;
  const read = readOptions(embeddingOptionsSchema, options, {
    provider,
    what: "option",
    error: OpenAICompatibleOptionsError,
  });
  const checked = embeddingInputSchema.safeParse(input);
  if (!checked.success)
    throw new OpenAICompatibleOptionsError({
      provider,
      field: "input",
      message: `${provider}: invalid embeddings input: a text, a non-empty list of texts, or non-empty lists of token ids`,
    });
  const url = `${settings.baseUrl}${openAICompatibleEmbeddingsPath}`;
  const body: OpenAICompatibleEmbeddingsBody = { model, input };
  if (read.encodingFormat != null) body.encoding_format = read.encodingFormat;
  if (read.dimensions != null) body.dimensions = read.dimensions;
  if (read.user != null) body.user = read.user;
  const signal = read.signal ?? undefined;
  const deadline = new CallDeadline(
    provider,
    read.timeout != null
      ? read.timeout * 1000
      : (settings.timeouts.totalMs ?? defaultHttpTimeouts.totalMs),
  );
  const { headers, secrets } = settings;
  const expected = embeddingInputCount(input);
  const attempt = async function* () {
    try {
      const response = await postJson({
        provider,
        url,
        headers,
        json: body,
        secrets,
        proxy: settings.proxy,
        signal,
        timeouts: { ...settings.timeouts, totalMs: deadline.remainingMs() },
      });
      const answer = await readJson(
        response,
        openAICompatibleEmbeddingsAnswerSchema,
        provider,
        secrets,
      );
      if (answer.error != null) throw errorFromPayload(provider, answer, secrets);
      const items = answer.data ?? [];
      if (items.length !== expected)
        throw new InvalidResponseError({
          provider,
          status: response.status,
          message: `${provider} answered ${items.length} embeddings for ${expected} inputs`,
        });
      const ordered = [...items].sort((left, right) => (left.index ?? 0) - (right.index ?? 0) || 0);
      const vectors = ordered.map((item) => encoded(item.embedding, read.encodingFormat));
      const usage =
        answer.usage == null
          ? undefined
          : {
              promptTokens: answer.usage.prompt_tokens ?? 0,
              totalTokens: answer.usage.total_tokens ?? answer.usage.prompt_tokens ?? 0,
            };
      yield new EmbeddingsResponse({ vectors, model: answer.model ?? model, usage });
    } catch (error) {
      throw refineUpstreamError(error, { model, endpoint: url });
    }
  };
  for await (const chunk of withRetries(attempt, { provider, policy: settings.retry, signal }))
    if (EmbeddingsResponse.isInstance(chunk)) return chunk.embeddings;
  throw new InvalidResponseError({ provider, message: `${provider} answered no embeddings` });
}

function encoded(
  vector: number[] | string,
  format: "float" | "base64" | null | undefined,
): EmbeddingVector {
  if (format === "base64") return typeof vector === "string" ? vector : float32Base64(vector);
  return typeof vector === "string" ? float32FromBase64(vector) : vector;
}
