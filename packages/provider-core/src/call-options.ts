import { type ZodError, type ZodType, z } from "zod";
import { callControlOf, optionsRecord } from "./call-control.js";
import { closeNames } from "./model-resolution.js";
import type { ProviderErrorOptions } from "./provider-errors.js";
import {
  callOptionsShape,
  InvalidOptionsError,
  type OptionsErrorClass,
} from "./provider-options.js";
import { formatSchemaIssues } from "./schema-errors.js";

/** Makes a provider's own subclass of `InvalidOptionsError`. */
export type OptionsErrorFactory = (
  options: ProviderErrorOptions & { field: string },
) => InvalidOptionsError;

/** The options of one call as read: the common ones plus a provider's own, null counting as absent. */
export type CallSettings<Extras extends z.ZodRawShape = Record<never, never>> = z.infer<
  z.ZodObject<typeof callOptionsShape>
> &
  z.infer<z.ZodObject<Extras>>;

/**
 * g4f's spellings of the sampling options, as its users pass them
 * (`max_tokens=…`): each is honoured as its camelCase twin.
 */
export const g4fOptionSpellings = {
  max_tokens: "maxTokens",
  top_p: "topP",
  frequency_penalty: "frequencyPenalty",
  presence_penalty: "presencePenalty",
  max_completion_tokens: "maxCompletionTokens",
  logit_bias: "logitBias",
  top_logprobs: "topLogprobs",
  reasoning_effort: "reasoningEffort",
  service_tier: "serviceTier",
  tool_choice: "toolChoice",
  parallel_tool_calls: "parallelToolCalls",
  response_format: "responseFormat",
  extra_body: "extraBody",
} as const;

/** The spellings as pairs, made once: a call walks them without allocating. */
const g4fSpellingPairs = Object.entries(g4fOptionSpellings);

/**
 * The common options whose schemas are one plain type check each (beside null and
 * undefined), as that check: `readPlainOptions` reads a call carrying only these
 * without zod, with the same result.
 */
const plainOptionChecks: Record<string, (value: unknown) => boolean> = {
  stream: (value) => typeof value === "boolean",
  timeout: (value) => typeof value === "number" && Number.isFinite(value) && value > 0,
  signal: (value) => value instanceof AbortSignal,
  temperature: (value) => typeof value === "number" && Number.isFinite(value),
  topP: (value) => typeof value === "number" && Number.isFinite(value),
  maxTokens: (value) => Number.isSafeInteger(value) && (value as number) > 0,
  frequencyPenalty: (value) => typeof value === "number" && Number.isFinite(value),
  presencePenalty: (value) => typeof value === "number" && Number.isFinite(value),
  user: (value) => typeof value === "string",
  logprobs: (value) => typeof value === "boolean",
};

function issueField(error: ZodError): string {
  const issue = error.issues[0];
  if (issue?.code === "unrecognized_keys" && issue.keys[0] !== undefined) {
    return [...issue.path.map(String), issue.keys[0]].join(".");
  }
  const path = issue?.path ?? [];
  return path.length === 0 ? "(options)" : path.map(String).join(".");
}

function isErrorClass(error: OptionsErrorClass | OptionsErrorFactory): error is OptionsErrorClass {
  return error.prototype instanceof Error;
}

/** Who reads a set of options, for {@link readOptions}. */
export interface OptionsContext {
  /** The provider's label, named in the error. */
  provider: string;
  /** What the options are, in the message (`option`, `call option`). */
  what: string;
  /** The provider's `InvalidOptionsError` subclass (see `defineOptionsError`), or a factory of its errors. */
  error: OptionsErrorClass | OptionsErrorFactory;
  /** The known names, for the hint after an unknown key (default: the schema's keys). */
  names?: readonly string[];
}

/**
 * Validate options with `schema`; a failure is the provider's `InvalidOptionsError`
 * naming the first bad field (`retry.maxAttempts`), and for an unknown key of a strict
 * schema the closest known name. Values are never echoed: they may be secrets.
 */
export function readOptions<T>(schema: ZodType<T>, value: unknown, context: OptionsContext): T {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const field = issueField(parsed.error);
  const issue = parsed.error.issues[0];
  let detail: string;
  if (issue?.code === "unrecognized_keys" && issue.path.length === 0) {
    const names = context.names ?? (schema instanceof z.ZodObject ? Object.keys(schema.shape) : []);
    const [closest] = closeNames(field, names, 1);
    const hint = closest === undefined ? "" : ` Did you mean "${closest}"?`;
    detail = `not an option of ${context.provider}.${hint}`;
  } else {
    // One issue is named by the field already; several need their own paths.
    detail =
      parsed.error.issues.length === 1 && issue !== undefined
        ? issue.message
        : formatSchemaIssues(parsed.error);
  }
  const options = {
    provider: context.provider,
    field,
    message: `${context.provider}: invalid ${context.what} "${field}": ${detail}`,
  };
  throw isErrorClass(context.error) ? new context.error(options) : context.error(options);
}

/**
 * A strict reader of call options: an unknown or misspelled option is an
 * `InvalidOptionsError` naming it and the closest known option (`temprature`:
 * did you mean `temperature`?), never a silent drop. g4f's snake_case spellings of
 * the sampling options are read as their camelCase twins.
 */
export class CallOptionsReader<Extras extends z.ZodRawShape = Record<never, never>> {
  readonly #schema: z.ZodObject<typeof callOptionsShape & Extras>;
  /** Every option a call may carry, g4f's spellings included. */
  readonly optionNames: readonly string[];

  /** Makes the provider's error for a bad option. */
  readonly createError: OptionsErrorFactory;
  /** The schema's keys in its order, for the output of `#readPlain`. */
  readonly #shapeKeys: readonly string[];
  /** The plain checks of the options this provider's extras leave as the core has them. */
  readonly #plainChecks: ReadonlyMap<string, (value: unknown) => boolean>;

  constructor(
    readonly provider: string,
    extras: Extras,
    error: OptionsErrorClass | OptionsErrorFactory = InvalidOptionsError,
  ) {
    this.createError = isErrorClass(error) ? (options) => new error(options) : error;
    this.#schema = z.strictObject({ ...callOptionsShape, ...extras }) as unknown as z.ZodObject<
      typeof callOptionsShape & Extras
    >;
    this.#shapeKeys = Object.keys(this.#schema.shape);
    this.optionNames = [...this.#shapeKeys, ...Object.keys(g4fOptionSpellings)];
    this.#plainChecks = new Map(
      Object.entries(plainOptionChecks).filter(([name]) => !Object.hasOwn(extras, name)),
    );
  }

  /** Validate the options of one call; see the class. */
  read(options: unknown): CallSettings<Extras> {
    const { provider } = this;
    if (options !== undefined && options !== null && typeof options !== "object") {
      throw this.#error("(options)", "the call options must be an object");
    }
    // The common call first, read from the caller's object itself: no copy, and no
    // look for each of g4f's spellings (a call that uses one is not plain).
    const plain = this.#readPlain(options as Record<string, unknown> | null | undefined);
    if (plain !== undefined) return plain;
    // A caller's control stands for `signal`, which is then left unread (see optionsRecord).
    const record = optionsRecord(options as object | null | undefined);
    for (const [g4fName, name] of g4fSpellingPairs) {
      if (!Object.hasOwn(record, g4fName)) continue;
      if (record[name] != null && record[g4fName] != null && record[name] !== record[g4fName]) {
        throw this.#error(g4fName, `set ${name} or ${g4fName} (g4f's spelling), not both`);
      }
      record[name] ??= record[g4fName];
      delete record[g4fName];
    }
    return readOptions(this.#schema, record, {
      provider,
      what: "call option",
      error: this.createError,
      names: this.optionNames,
    }) as CallSettings<Extras>;
  }

  /**
   * The common call (a registry's: `stream`, `signal`, a sampling value or two) read
   * without zod: when every key is one of the plain options of `plainOptionChecks`
   * and each value passes its check or is null or undefined, the result is what the
   * schema gives for it, the same keys with the same values in the schema's order.
   * Undefined for any other call, which the schema reads (and names the bad field
   * of), so that no error differs either. Read from the caller's object: a key it
   * inherits (which a copy would not have) makes the call not plain. Under a
   * caller's `CallControl`, `signal` is left unread, as `optionsRecord` leaves it:
   * reading it would make the `AbortSignal` the control spares.
   */
  #readPlain(record: Record<string, unknown> | null | undefined): CallSettings<Extras> | undefined {
    let count = 0;
    if (record == null) return {} as CallSettings<Extras>;
    const skipSignal = callControlOf(record) !== undefined;
    for (const name in record) {
      if (skipSignal && name === "signal") continue;
      const check = this.#plainChecks.get(name);
      if (check === undefined || !Object.hasOwn(record, name)) return undefined;
      const value = record[name];
      if (value != null && !check(value)) return undefined;
      count++;
    }
    const result: Record<string, unknown> = {};
    if (count === 0) return result as CallSettings<Extras>;
    for (const name of this.#shapeKeys) {
      if (!Object.hasOwn(record, name) || (skipSignal && name === "signal")) continue;
      result[name] = record[name];
      if (--count === 0) break;
    }
    return result as CallSettings<Extras>;
  }

  #error(field: string, detail: string): InvalidOptionsError {
    return this.createError({
      provider: this.provider,
      field,
      message: `${this.provider}: invalid call option "${field}": ${detail}`,
    });
  }
}
