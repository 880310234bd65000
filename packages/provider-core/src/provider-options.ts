import { type ZodError, z } from "zod";
import { extraBodySchema } from "./extra-body.js";
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

/** A provider's own subclass of `InvalidOptionsError`, as {@link defineOptionsError} makes it. */
export interface OptionsErrorClass {
  new (options: ProviderErrorOptions & { field: string }): InvalidOptionsError;
  readonly prototype: InvalidOptionsError;
  /** True for an error of this class, also one made by another copy of the package. */
  isInstance(value: unknown): value is InvalidOptionsError;
}

/**
 * Make a provider's own subclass of `InvalidOptionsError`, named `name` (its
 * `isInstance` works across copies of the package, through a `Symbol.for` marker),
 * so that a provider's errors carry its name without a class body of their own.
 *
 * @example
 * export const AcmeOptionsError = defineOptionsError("AcmeOptionsError");
 * export type AcmeOptionsError = InstanceType<typeof AcmeOptionsError>;
 */
export function defineOptionsError(name: string): OptionsErrorClass {
  const marker = Symbol.for(`g4f-ts.error.${name}`);
  return class extends InvalidOptionsError {
    override readonly name: string = name;

    constructor(options: ProviderErrorOptions & { field: string }) {
      super(options);
      Object.defineProperty(this, marker, { value: true });
    }

    static override isInstance(value: unknown): value is InvalidOptionsError {
      return typeof value === "object" && value !== null && marker in value;
    }
  };
}

/**
 * A base URL option: `http://` or `https://`, without a query or a fragment, and,
 * with `credentials: false`, without `user:password@` (`problem` says what to do instead).
 */
export function baseUrlSchema(rules: { credentials: boolean; problem?: string }) {
  return httpUrlSchema.refine(
    (value) => {
      // zod runs a refinement even after the URL check failed: parse without throwing.
      if (!URL.canParse(value)) return true;
      const url = new URL(value);
      const credentials = url.username !== "" || url.password !== "";
      return url.search === "" && url.hash === "" && (rules.credentials || !credentials);
    },
    {
      error: rules.problem ?? "must be an origin (and optional path) without a query or fragment",
    },
  );
}

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
 * The transport options of an HTTP provider's instance (`HttpProviderOptions`), as
 * zod fields: a provider spreads them into its own options schema.
 */
export const httpProviderOptionsShape = {
  proxy: httpUrlSchema.optional(),
  retry: retryPolicySchema.optional(),
  timeouts: httpTimeoutsSchema.optional(),
};

const toolSchema = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoiceSchema = z.union([
  z.enum(["none", "auto", "required"]),
  z.object({ type: z.literal("function"), function: z.object({ name: z.string().min(1) }) }),
]);

const responseFormatSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({
      name: z.string().min(1),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

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
  maxCompletionTokens: z.int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  seed: z.int().nullish(),
  n: z.int().min(1).max(128).nullish(),
  user: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  logitBias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
  logprobs: z.boolean().nullish(),
  topLogprobs: z.int().min(0).max(20).nullish(),
  reasoningEffort: z.string().min(1).nullish(),
  serviceTier: z.string().min(1).nullish(),
  tools: z.array(toolSchema).nullish(),
  toolChoice: toolChoiceSchema.nullish(),
  parallelToolCalls: z.boolean().nullish(),
  responseFormat: responseFormatSchema.nullish(),
  extraBody: extraBodySchema.nullish(),
};

const textPartsSchema = z.array(z.object({ type: z.literal("text"), text: z.string() }));

const toolCallSchema = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

const messagesSchema = z.array(
  z.discriminatedUnion("role", [
    z.object({
      role: z.enum(["system", "developer"]),
      content: z.union([z.string(), textPartsSchema]),
    }),
    z.object({
      role: z.literal("user"),
      content: z.union([z.string(), z.array(z.object({ type: z.string() }))]),
    }),
    z.object({
      role: z.literal("assistant"),
      content: z.union([z.string(), z.array(z.object({ type: z.string() }))]).nullish(),
      tool_calls: z.array(toolCallSchema).optional(),
    }),
    z.object({
      role: z.literal("tool"),
      content: z.union([z.string(), textPartsSchema]),
      tool_call_id: z.string().min(1),
    }),
    z.object({
      role: z.literal("function"),
      content: z.string().nullable(),
      name: z.string().min(1),
    }),
  ]),
);

function messagesField(error: ZodError): string {
  const path = error.issues[0]?.path ?? [];
  return path.length === 0 ? "messages" : `messages.${path.map(String).join(".")}`;
}

// The conversations a caller built from messages it validated with a stricter
// schema, with their length then (see `vouchForMessages`).
const vouchedMessages = new WeakMap<object, number>();

/**
 * Skip `checkMessages` for `messages`: the caller built it from messages it
 * validated itself with a schema at least as strict as this one's (the registry's
 * OpenAI request schema: the same roles, strict objects, the same content forms), so
 * the walk could refuse nothing. The caller promises the array and its messages are
 * not changed afterwards; one of another length is checked again. Direct callers of
 * the library never vouch, and keep their typed errors.
 */
export function vouchForMessages(messages: readonly unknown[]): void {
  vouchedMessages.set(messages, messages.length);
}

function isVouchedFor(messages: unknown): boolean {
  return Array.isArray(messages) && vouchedMessages.get(messages) === messages.length;
}

/**
 * True for the common conversation, which `messagesSchema` accepts as it is: an
 * array of objects, each a system, developer, user or assistant message with text
 * content, and no assistant `tool_calls`. Other keys pass, as the schema's
 * objects let them. Anything else (content parts, tool messages, tool calls, a bad
 * field) is left to the schema, which names the bad field: a call costs a look at
 * each message's role and content instead of a zod pass (about 2 µs a call).
 */
function isPlainConversation(messages: unknown): boolean {
  if (!Array.isArray(messages)) return false;
  for (let index = 0; index < messages.length; index++) {
    const message: unknown = messages[index];
    if (typeof message !== "object" || message === null || Array.isArray(message)) return false;
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (typeof content !== "string") return false;
    if (role === "assistant") {
      if ((message as { tool_calls?: unknown }).tool_calls !== undefined) return false;
    } else if (role !== "user" && role !== "system" && role !== "developer") return false;
  }
  return true;
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
  if (isVouchedFor(messages) || isPlainConversation(messages)) return;
  const parsed = messagesSchema.safeParse(messages);
  if (parsed.success) return;
  throw createError({
    provider,
    field: messagesField(parsed.error),
    message: `${provider}: invalid messages: ${formatSchemaIssues(parsed.error)}`,
  });
}
