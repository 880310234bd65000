import type { z } from "zod";
import { forbiddenFields } from "./request-checks.js";

/**
 * A cheaper exact reading of the common chat request, for `parseChatRequest`: the
 * same value `schema.safeParse(body).data` gives, or `undefined` where it is not
 * sure, and then the caller runs the whole schema (so every error, and every
 * request it does not take, is the schema's own).
 *
 * Why it is the same value: the request schema is a (non-strict) `z.object` with no
 * check of its own. zod builds its output field by field, in the order of the
 * schema's shape, from each field's own schema run on `body[field]`, and leaves out
 * the fields the body does not hold and the keys the schema does not know. This
 * does the same: fields in the shape's order, each read by its own schema from the
 * shape (`shape[field].safeParse`), except three read by hand because they are in
 * every request and their schemas cost the most:
 * - `model`: a string of at most 256 UTF-16 units (zod's `max` counts `length`);
 * - `stream`: `true`, `false` or `null`;
 * - `messages`: each one a plain object of a role this knows, with keys only of
 *   that role's schema and text `content` (see `plainMessage`), rebuilt with its
 *   keys in the schema's order, as zod's strict objects are; any other message
 *   (content parts, tool calls, …) sends the whole list through its schema;
 * - `tools`, when every tool is a plain function tool (see `plainTool`), and
 *   `response_format` (see `readResponseFormat`); otherwise (or `null`) the
 *   field's schema reads them.
 * Any field that fails its schema, a value `undefined` (which JSON never makes, but
 * a direct caller might), or a body that is not a plain object gives `undefined`.
 */
export function fastChatRequestData<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  body: object,
): z.output<z.ZodObject<Shape>> | undefined {
  // zod reads fields with `in` and `[]`, which see a prototype's too: only a plain
  // object's own keys are certain to be all there is.
  if (Object.getPrototypeOf(body) !== Object.prototype) return undefined;
  const source = body as Record<string, unknown>;
  const { shape } = schema;
  const output: Record<string, unknown> = {};
  for (const { field, required } of shapeFields(schema)) {
    if (!Object.hasOwn(source, field)) {
      if (required) return undefined;
      continue;
    }
    const value = source[field];
    if (value === undefined) return undefined;
    const read = readField(field, value, shape[field] as z.ZodType);
    if (read === undefined) return undefined;
    output[field] = read;
  }
  return output as z.output<z.ZodObject<Shape>>;
}

/** What `readPlainChatRequest` checks besides the schema: `parseChatRequest`'s limits. */
export interface PlainRequestLimits {
  maxMessages?: number;
}

/**
 * The common chat request read in ONE pass over its keys, for `parseChatRequest`:
 * its schema data with `extraFields` (the fields the schema does not know, as sent),
 * exactly as the general path gives it, or `undefined` where it is not sure, and
 * then the caller runs the general path (its checks, the field-by-field reading of
 * `fastChatRequestData`, the schema), which gives every error.
 *
 * What it skips, and why the value is the same: the general path walks the body
 * several times (the size limits over the messages, the null-content check over
 * them again, the forbidden fields, `__proto__`, every one of the schema's ~30
 * fields with `Object.hasOwn`, then the body's keys again for the extra fields).
 * Here the body's own keys are visited once: a key of the schema is read by its
 * field's reading (`readField`, the same as `fastChatRequestData`'s), any other key
 * is an extra field, and a forbidden field or `__proto__` gives `undefined` (the
 * general path refuses them). The schema builds its output in its shape's order;
 * the keys are taken only when the body holds them in that order (clients write
 * `model`, `messages`, `stream`, …), so the output has the same keys in the same
 * order. Every message must be a plain text one (`plainMessage`): a message with
 * content parts, tool calls or a null content where only an assistant's may be
 * null goes the general way, so the content-part limit and the null-content check
 * have nothing to find here; the message limit is checked. A body whose prototype is
 * not `Object.prototype`, a value `undefined` (JSON makes none), a required field
 * missing, or any field its reading refuses gives `undefined`.
 */
export function readPlainChatRequest<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  body: unknown,
  limits: PlainRequestLimits,
): (z.output<z.ZodObject<Shape>> & { extraFields: Record<string, unknown> }) | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  if (Object.getPrototypeOf(body) !== Object.prototype) return undefined;
  const source = body as Record<string, unknown>;
  const { positions, required } = shapeOrderOf(schema);
  const { shape } = schema;
  const output: Record<string, unknown> = {};
  const extraFields: Record<string, unknown> = {};
  let lastPosition = -1;
  let requiredSeen = 0;
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value === undefined) return undefined;
    const position = positions.get(key);
    if (position === undefined) {
      if (refusedKeys.has(key)) return undefined;
      extraFields[key] = value;
      continue;
    }
    if (position < lastPosition) return undefined;
    lastPosition = position;
    const read =
      key === "messages"
        ? readPlainMessages(value, limits.maxMessages ?? Number.POSITIVE_INFINITY)
        : readField(key, value, shape[key] as z.ZodType);
    if (read === undefined) return undefined;
    output[key] = read;
    if (required.has(key)) requiredSeen++;
  }
  if (requiredSeen !== required.size) return undefined;
  output.extraFields = extraFields;
  return output as z.output<z.ZodObject<Shape>> & { extraFields: Record<string, unknown> };
}

/**
 * Keys a request may not hold (`checkRequestObject`'s forbidden fields, and
 * `__proto__`, which `parseWith` refuses by name): the general path says why.
 */
const refusedKeys: ReadonlySet<string> = new Set([...forbiddenFields, "__proto__"]);

interface ShapeOrder {
  /** Each field's place in the schema's shape. */
  positions: ReadonlyMap<string, number>;
  required: ReadonlySet<string>;
}

const ordersOfShapes = new WeakMap<z.ZodObject, ShapeOrder>();

function shapeOrderOf(schema: z.ZodObject): ShapeOrder {
  let order = ordersOfShapes.get(schema);
  if (order === undefined) {
    const fields = shapeFields(schema);
    order = {
      positions: new Map(fields.map(({ field }, index) => [field, index])),
      required: new Set(fields.filter((field) => field.required).map(({ field }) => field)),
    };
    ordersOfShapes.set(schema, order);
  }
  return order;
}

/** At most `maxMessages` messages, every one plain (`plainMessage`), or undefined. */
function readPlainMessages(value: unknown, maxMessages: number): unknown[] | undefined {
  if (Array.isArray(value) && value.length > maxMessages) return undefined;
  return plainMessages(value);
}

/** A non-empty list of messages, every one plain (`plainMessage`), as read; or undefined. */
function plainMessages(value: unknown): unknown[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const messages: unknown[] = new Array(value.length);
  for (let index = 0; index < value.length; index++) {
    const message = plainMessage(value[index]);
    if (message === undefined) return undefined;
    messages[index] = message;
  }
  return messages;
}

/** One field's value as its schema outputs it, or undefined when not sure or refused. */
function readField(field: string, value: unknown, fieldSchema: z.ZodType): unknown {
  switch (field) {
    case "model":
      return readModel(value);
    case "stream":
      return readStream(value);
    case "messages":
      return readMessages(value, fieldSchema);
    // A list of tools or a format the hand reading is unsure of goes to the schema.
    case "tools":
      return readTools(value) ?? schemaRead(value, fieldSchema);
    case "response_format":
      return readResponseFormat(value) ?? schemaRead(value, fieldSchema);
    default:
      return schemaRead(value, fieldSchema);
  }
}

function schemaRead(value: unknown, fieldSchema: z.ZodType): unknown {
  const parsed = fieldSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

interface ShapeField {
  field: string;
  /** The field's schema refuses `undefined`: a body without it is the schema's to refuse. */
  required: boolean;
}

const fieldsOfShapes = new WeakMap<z.ZodObject, readonly ShapeField[]>();

function shapeFields(schema: z.ZodObject): readonly ShapeField[] {
  let fields = fieldsOfShapes.get(schema);
  if (fields === undefined) {
    fields = Object.entries(schema.shape).map(([field, fieldSchema]) => ({
      field,
      required: !(fieldSchema as z.ZodType).safeParse(undefined).success,
    }));
    fieldsOfShapes.set(schema, fields);
  }
  return fields;
}

function readModel(value: unknown): string | undefined {
  return typeof value === "string" && value.length <= 256 ? value : undefined;
}

function readStream(value: unknown): boolean | null | undefined {
  return value === true || value === false || value === null ? value : undefined;
}

function readMessages(value: unknown, schema: z.ZodType): unknown[] | undefined {
  // `min(1)`: an empty list is the schema's to refuse.
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return plainMessages(value) ?? (schemaRead(value, schema) as unknown[] | undefined);
}

/**
 * The keys each role's message schema has, in the schema's order, for the messages
 * `plainMessage` reads: a string `content` (or, for an assistant, `null` or none)
 * and a string `name` (a `tool_call_id` of at least one character for a tool).
 */
const plainMessageKeys: Readonly<Record<string, readonly string[]>> = {
  system: ["role", "content", "name"],
  developer: ["role", "content", "name"],
  user: ["role", "content", "name"],
  assistant: ["role", "content", "name"],
  tool: ["role", "content", "tool_call_id"],
};

/** A message of text only as its role's strict schema outputs it, or undefined. */
function plainMessage(message: unknown): Record<string, unknown> | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  if (Object.getPrototypeOf(message) !== Object.prototype) return undefined;
  const source = message as Record<string, unknown>;
  const { role } = source;
  if (typeof role !== "string" || !Object.hasOwn(plainMessageKeys, role)) return undefined;
  const keys = plainMessageKeys[role] as readonly string[];
  const output: Record<string, unknown> = {};
  let read = 0;
  for (const key of keys) {
    if (!Object.hasOwn(source, key)) continue;
    const value = source[key];
    if (key === "content") {
      if (typeof value !== "string" && !(value === null && role === "assistant")) return undefined;
    } else if (key === "tool_call_id") {
      if (typeof value !== "string" || value.length === 0) return undefined;
    } else if (typeof value !== "string") return undefined;
    output[key] = value;
    read++;
  }
  // A key the role's schema does not know (strict: the schema's 400), or a required
  // one missing (`content` everywhere but an assistant's, a tool's `tool_call_id`).
  if (read !== Object.keys(source).length) return undefined;
  if (!Object.hasOwn(output, "content") && role !== "assistant") return undefined;
  if (role === "tool" && !Object.hasOwn(output, "tool_call_id")) return undefined;
  return output;
}

/** A list of at most 128 plain function tools, as the tools schema outputs it, or undefined. */
function readTools(value: unknown): unknown[] | undefined {
  if (!Array.isArray(value) || value.length > 128) return undefined;
  const tools: unknown[] = new Array(value.length);
  for (let index = 0; index < value.length; index++) {
    const tool = plainTool(value[index]);
    if (tool === undefined) return undefined;
    tools[index] = tool;
  }
  return tools;
}

/**
 * `{ type: "function", function: { name, description?, parameters?, strict? } }`
 * as its strict schema outputs it: keys in the schema's order, and `parameters` (a
 * `z.record` of unknown values) copied one level deep, as zod's record does (see
 * `recordCopy`).
 */
function plainTool(tool: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(tool) || tool.type !== "function" || !hasOnlyKeys(tool, 2)) return undefined;
  const definition = namedDefinition(tool.function, 256, "parameters");
  return definition === undefined ? undefined : { type: "function", function: definition };
}

/**
 * The definition a function tool and a JSON schema response format share:
 * `{ name, description?, <record>?, strict? }` with a name of 1 to `maxNameLength`
 * characters and the record (`parameters`, `schema`) copied one level deep (see
 * `recordCopy`), keys in the schema's order; undefined for anything else.
 */
function namedDefinition(
  definition: unknown,
  maxNameLength: number,
  recordKey: "parameters" | "schema",
): Record<string, unknown> | undefined {
  if (!isPlainObject(definition)) return undefined;
  const { name, description, strict } = definition;
  if (typeof name !== "string" || name.length === 0 || name.length > maxNameLength)
    return undefined;
  const output: Record<string, unknown> = { name };
  let read = 1;
  if (Object.hasOwn(definition, "description")) {
    if (typeof description !== "string") return undefined;
    output.description = description;
    read++;
  }
  if (Object.hasOwn(definition, recordKey)) {
    const copy = recordCopy(definition[recordKey]);
    if (copy === undefined) return undefined;
    output[recordKey] = copy;
    read++;
  }
  if (Object.hasOwn(definition, "strict")) {
    if (strict !== true && strict !== false && strict !== null) return undefined;
    output.strict = strict;
    read++;
  }
  if (!hasOnlyKeys(definition, read)) return undefined;
  return output;
}

/**
 * `{ type: "text" }`, `{ type: "json_object" }` or `{ type: "json_schema",
 * json_schema: { name, description?, schema?, strict? } }` as the response format's
 * strict schemas output it (`schema` copied as `parameters` is), or undefined.
 */
function readResponseFormat(format: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(format)) return undefined;
  const { type } = format;
  if (type === "text" || type === "json_object")
    return hasOnlyKeys(format, 1) ? { type } : undefined;
  if (type !== "json_schema" || !hasOnlyKeys(format, 2)) return undefined;
  const definition = namedDefinition(format.json_schema, 64, "schema");
  return definition === undefined ? undefined : { type, json_schema: definition };
}

/**
 * A `z.record(z.string(), z.unknown())`'s output: a copy one level deep. A
 * `__proto__` key (zod leaves it out) or an `undefined` value gives undefined.
 */
function recordCopy(value: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) return undefined;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key === "__proto__" || value[key] === undefined) return undefined;
    copy[key] = value[key];
  }
  return copy;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype
  );
}

/** True when `value` has `count` own keys: with the known ones read, no other (a strict schema's 400). */
function hasOnlyKeys(value: object, count: number): boolean {
  return Object.keys(value).length === count;
}
