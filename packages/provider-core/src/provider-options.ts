import { type ZodError, z } from "zod";
import { ProviderError, type ProviderErrorOptions } from "./provider-errors.js";
import { formatSchemaIssues } from "./schema-errors.js";

const invalidOptionsMarker = Symbol.for("g4f-ts.error.InvalidOptionsError");

/**
 * An option of a provider's constructor or of a call is not valid: `field` names it
 * (a dotted path such as `retry.maxAttempts`). Not retryable. Values are never
 * echoed: a proxy URL or an API key may be a secret. Providers subclass it to give
 * the error their own name.
 */
export class InvalidOptionsError extends ProviderError {
  readonly [invalidOptionsMarker] = true;
  override readonly name: string = "InvalidOptionsError";
  readonly field: string;

  constructor(options: ProviderErrorOptions & { field: string }) {
    super({ ...options, retryable: false });
    this.field = options.field;
  }

  static override isInstance(value: unknown): value is InvalidOptionsError {
    return typeof value === "object" && value !== null && invalidOptionsMarker in value;
  }
}

/** An `http://` or `https://` URL (a base URL, a proxy). */
export const httpUrlSchema = z.url({
  protocol: /^https?$/,
  error: "must be an http:// or https:// URL",
});

/** `Partial<RetryPolicy>` as a provider option. */
export const retryPolicySchema = z
  .strictObject({
    maxAttempts: z.int().min(1).max(100),
    baseDelayMs: z.number().min(0).finite(),
    maxDelayMs: z.number().min(0).finite(),
    maxRetryAfterMs: z.number().min(0).finite(),
  })
  .partial();

const positiveMilliseconds = z.number().positive().finite();

/** `Partial<HttpTimeouts>` as a provider option. */
export const httpTimeoutsSchema = z
  .strictObject({
    connectMs: positiveMilliseconds,
    firstByteMs: positiveMilliseconds,
    idleMs: positiveMilliseconds,
    totalMs: positiveMilliseconds,
  })
  .partial();

/**
 * The fields of `ProviderOptions` every provider reads, null counting as absent; a
 * provider extends it with its own extras (`z.object({ ...callOptionsShape, … })`).
 */
export const callOptionsShape = {
  stream: z.boolean().nullish(),
  timeout: z.number().positive().finite().nullish(),
  proxy: httpUrlSchema.nullish(),
  signal: z.instanceof(AbortSignal, { error: "must be an AbortSignal" }).nullish(),
  temperature: z.number().finite().nullish(),
  topP: z.number().finite().nullish(),
  maxTokens: z.int().positive().nullish(),
  frequencyPenalty: z.number().finite().nullish(),
  presencePenalty: z.number().finite().nullish(),
};

const messagesSchema = z.array(
  z.object({
    role: z.string().min(1),
    content: z.union([z.string(), z.array(z.object({ type: z.string() }))]),
  }),
);

function messagesField(error: ZodError): string {
  const path = error.issues[0]?.path ?? [];
  return path.length === 0 ? "messages" : `messages.${path.map(String).join(".")}`;
}

/**
 * Check that `messages` is a list of `{ role, content }` before it goes on the wire;
 * otherwise throw the error `createError` makes (the provider's own subclass of
 * `InvalidOptionsError`), naming the bad message's field.
 */
export function checkMessages(
  messages: unknown,
  provider: string,
  createError: (options: ProviderErrorOptions & { field: string }) => InvalidOptionsError,
): void {
  const parsed = messagesSchema.safeParse(messages);
  if (parsed.success) return;
  throw createError({
    provider,
    field: messagesField(parsed.error),
    message: `${provider}: invalid messages: ${formatSchemaIssues(parsed.error)}`,
  });
}
