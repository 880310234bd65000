import {
  type Chunk,
  type EmbeddingInput,
  type EmbeddingOptions,
  type EmbeddingProvider,
  EmbeddingsResponse,
  InvalidResponseError,
  type Provider,
  supportsEmbeddings,
} from "@g4f-ts/provider-core";
import { closeNames } from "@g4f-ts/provider-core/internal";
import { z } from "zod";
import { clientIdentity } from "./client-identity.js";
import { gatherWholeAnswer } from "./fallback.js";
import { HttpError, invalidField } from "./http-errors.js";
import { sendJson } from "./http-responses.js";
import type { Candidate } from "./model-router.js";
import type { ProviderEntry } from "./provider-set.js";
import { schemaError } from "./request-checks.js";
import type { RequestContext } from "./request-context.js";

/*
 * `POST /v1/embeddings`: routed by model to the providers that list it among their
 * `embeddingModels`, with fallback through the same engine as chat (cooldown,
 * timeouts, metrics). There is no commit point: an answer is whole or it is not, so
 * any failure moves on to the next candidate.
 */

const embeddingsRequestSchema = z.strictObject({
  model: z.string().min(1).max(256),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1).max(2048),
    z.array(z.int().min(0)).min(1),
    z
      .array(z.array(z.int().min(0)).min(1))
      .min(1)
      .max(2048),
  ]),
  encoding_format: z.enum(["float", "base64"]).nullish(),
  dimensions: z.int().min(1).max(65_536).nullish(),
  user: z.string().max(256).nullish(),
  /** g4f's way to pin one provider (or several, separated by spaces). */
  provider: z.string().min(1).max(512).optional(),
});

export type EmbeddingsRequest = z.output<typeof embeddingsRequestSchema>;

/** Validate an embeddings request; an unknown field is a 400 naming it. */
export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new HttpError(400, "The request body must be a JSON object", { code: "invalid_value" });
  const parsed = embeddingsRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  if (first?.code === "unrecognized_keys") {
    const field = String(first.keys[0]).slice(0, 100);
    throw new HttpError(400, `Unknown parameter: '${field}'.`, {
      code: "unknown_parameter",
      param: field,
    });
  }
  throw schemaError(parsed.error);
}

type EmbeddingEntry = ProviderEntry & { provider: Provider & EmbeddingProvider };

function servesEmbeddings(entry: ProviderEntry): entry is EmbeddingEntry {
  return entry.enabled && supportsEmbeddings(entry.provider);
}

function byRoutingOrder(left: ProviderEntry, right: ProviderEntry): number {
  return right.priority - left.priority || left.order - right.order;
}

/** A provider's embedding model of a requested name (an alias of one counts), or undefined. */
function embeddingModelOf(entry: EmbeddingEntry, name: string): string | undefined {
  const { provider } = entry;
  const target = Object.hasOwn(provider.modelAliases, name) ? provider.modelAliases[name] : name;
  return target !== undefined && provider.embeddingModels.includes(target) ? target : undefined;
}

function findEntry(entries: readonly ProviderEntry[], name: string): ProviderEntry | undefined {
  const wanted = name.toLowerCase();
  return (
    entries.find((entry) => entry.id === name) ??
    entries.find(
      (entry) => entry.id.toLowerCase() === wanted || entry.provider.label.toLowerCase() === wanted,
    )
  );
}

/**
 * The ordered candidates for an embedding model: every enabled provider with the
 * embeddings capability that lists it (by priority, then discovery order), or those
 * pinned by `provider` (several separated by spaces) or a `<provider>:<model>`
 * prefix. A 404 names close embedding models when none serves it.
 */
export function embeddingCandidates(
  entries: readonly ProviderEntry[],
  model: string,
  pin: string | undefined,
): Candidate[] {
  const capable = entries.filter(servesEmbeddings).sort(byRoutingOrder);
  let pool = capable;
  let name = model;
  if (pin !== undefined) {
    const pinned = pin
      .split(/\s+/)
      .filter((part) => part !== "")
      .map((part) => {
        const entry = findEntry(entries, part);
        if (entry === undefined)
          throw new HttpError(404, `No provider has the id "${part.slice(0, 64)}"`, {
            code: "provider_not_found",
            param: "provider",
          });
        return entry;
      });
    pool = capable.filter((entry) => pinned.includes(entry));
  } else {
    const at = model.search(/[:/]/);
    const prefixed = at > 0 ? findEntry(entries, model.slice(0, at)) : undefined;
    if (prefixed !== undefined && !capable.some((entry) => embeddingModelOf(entry, model))) {
      pool = capable.filter((entry) => entry === prefixed);
      name = model.slice(at + 1);
    }
  }
  const candidates: Candidate[] = [];
  for (const entry of pool) {
    const resolved = embeddingModelOf(entry, name);
    if (resolved !== undefined) candidates.push({ entry, model: resolved });
  }
  if (candidates.length > 0) return candidates;
  const known = capable.flatMap((entry) => [
    ...entry.provider.embeddingModels,
    ...Object.keys(entry.provider.modelAliases).filter((alias) => embeddingModelOf(entry, alias)),
  ]);
  const suggestions = closeNames(name, known);
  const hint =
    suggestions.length > 0
      ? ` Did you mean ${suggestions.map((suggestion) => `"${suggestion}"`).join(", ")}?`
      : known.length === 0
        ? " No enabled provider serves embeddings (an OpenAI-compatible provider lists them in its embeddingModels option)."
        : "";
  throw new HttpError(
    404,
    `The model "${name.slice(0, 256)}" does not exist as an embedding model: no enabled provider serves it.${hint}`,
    { code: "model_not_found", param: "model" },
  );
}

/** Every embedding model name routed to, with its providers in routing order (for `/v1/models`). */
export function embeddingListings(
  entries: readonly ProviderEntry[],
): { name: string; providers: string[] }[] {
  const listings = new Map<string, string[]>();
  for (const entry of entries.filter(servesEmbeddings).sort(byRoutingOrder)) {
    const names = [
      ...entry.provider.embeddingModels,
      ...Object.keys(entry.provider.modelAliases).filter((alias) => embeddingModelOf(entry, alias)),
    ];
    for (const name of new Set(names)) {
      const providers = listings.get(name);
      if (providers === undefined) listings.set(name, [entry.id]);
      else providers.push(entry.id);
    }
  }
  return [...listings].map(([name, providers]) => ({ name, providers }));
}

/**
 * The candidate as the fallback engine runs it: a provider whose one "chat" call
 * makes the embeddings and yields them as one chunk, so the engine's timeouts,
 * cooldown, metrics and all-failed error serve embeddings unchanged.
 */
function embeddingAttempt(
  candidate: Candidate,
  input: EmbeddingInput,
  options: EmbeddingOptions,
): Candidate {
  const entry = candidate.entry as EmbeddingEntry;
  const { provider } = entry;
  const attemptProvider = {
    id: provider.id,
    label: provider.label,
    async *createAsyncGenerator(
      model: string,
      _messages: unknown,
      callOptions: { signal?: AbortSignal } = {},
    ): AsyncGenerator<Chunk> {
      const signal = callOptions.signal;
      const embeddings = await provider.createEmbeddings(model, input, {
        ...options,
        ...(signal === undefined ? {} : { signal }),
      });
      yield new EmbeddingsResponse(embeddings);
    },
  } as unknown as Provider;
  return { entry: { ...entry, provider: attemptProvider }, model: candidate.model };
}

function inputCount(input: EmbeddingInput): number {
  if (typeof input === "string") return 1;
  if (input.length > 0 && typeof input[0] === "number") return 1;
  return input.length;
}

/** `POST /v1/embeddings`. */
export async function handleEmbeddings(context: RequestContext, body: unknown): Promise<void> {
  const request = parseEmbeddingsRequest(body);
  const { registry } = context;
  if (typeof request.input === "string" && request.input === "")
    throw invalidField("input", "Invalid request: `input` must not be an empty string");
  const candidates = embeddingCandidates(registry.entries, request.model, request.provider);
  const options: EmbeddingOptions = {};
  if (request.encoding_format != null) options.encodingFormat = request.encoding_format;
  if (request.dimensions != null) options.dimensions = request.dimensions;
  if (request.user != null) options.user = request.user;
  const input = request.input as EmbeddingInput;
  const run = registry.run(
    candidates.map((candidate) => embeddingAttempt(candidate, input, options)),
    {
      requestedModel: request.model,
      messages: [],
      options: {},
      signal: context.signal,
      logger: context.logger,
      requestId: context.requestId,
      client: clientIdentity(context.request, registry.config.server.apiKeys.length > 0),
    },
  );
  const expected = inputCount(input);
  const format = request.encoding_format ?? "float";
  try {
    // No commit point: an answer with the wrong count or format is that attempt's failure.
    const { candidate, answer: embeddings } = await gatherWholeAnswer(run, (attempted) => {
      let answer: EmbeddingsResponse | undefined;
      return {
        add: (chunk) => {
          if (EmbeddingsResponse.isInstance(chunk)) answer = chunk;
        },
        finish: () => {
          const vectors = answer?.embeddings.vectors ?? [];
          const wrongShape =
            vectors.length !== expected ||
            vectors.some((vector) => (format === "base64") !== (typeof vector === "string"));
          if (answer === undefined || wrongShape) {
            const label = attempted.entry.provider.label;
            throw new InvalidResponseError({
              provider: label,
              message: `${label} answered ${vectors.length} ${format} embeddings for ${expected} inputs`,
            });
          }
          return answer.embeddings;
        },
      };
    });
    const vectors = embeddings.vectors;
    const { entry, model } = candidate;
    context.provider = entry.id;
    const promptTokens = embeddings.usage?.promptTokens ?? 0;
    sendJson(
      context.response,
      200,
      JSON.stringify({
        object: "list",
        data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
        model: embeddings.model ?? model,
        usage: {
          prompt_tokens: promptTokens,
          total_tokens: embeddings.usage?.totalTokens ?? promptTokens,
        },
        provider: entry.id,
      }),
      { "x-g4f-provider": entry.id },
    );
  } finally {
    context.failedAttempts = run.failures.length;
  }
}
