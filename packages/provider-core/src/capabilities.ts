import type { Messages } from "./messages.js";

/**
 * The request options of a call a model may or may not honour, in TypeScript
 * casing (`stream`, `timeout`, `proxy` and `signal` are the transport's and every
 * provider reads them).
 */
export const callFeatures = [
  "temperature",
  "topP",
  "maxTokens",
  "maxCompletionTokens",
  "frequencyPenalty",
  "presencePenalty",
  "stop",
  "seed",
  "n",
  "user",
  "metadata",
  "logitBias",
  "logprobs",
  "topLogprobs",
  "reasoningEffort",
  "serviceTier",
  "tools",
  "toolChoice",
  "parallelToolCalls",
  "responseFormat",
  "extraBody",
] as const;

export type CallFeature = (typeof callFeatures)[number];

/** Each call feature's name in an OpenAI Chat Completions request. */
export const callFeatureWireNames: Readonly<Record<CallFeature, string>> = {
  temperature: "temperature",
  topP: "top_p",
  maxTokens: "max_tokens",
  maxCompletionTokens: "max_completion_tokens",
  frequencyPenalty: "frequency_penalty",
  presencePenalty: "presence_penalty",
  stop: "stop",
  seed: "seed",
  n: "n",
  user: "user",
  metadata: "metadata",
  logitBias: "logit_bias",
  logprobs: "logprobs",
  topLogprobs: "top_logprobs",
  reasoningEffort: "reasoning_effort",
  serviceTier: "service_tier",
  tools: "tools",
  toolChoice: "tool_choice",
  parallelToolCalls: "parallel_tool_calls",
  responseFormat: "response_format",
  extraBody: "extra_body",
};

/** Message content beyond text a model may read. */
export type InputKind = "image" | "audio" | "file";

/** Structured-output modes beyond plain text. */
export type ResponseFormatKind = "json_object" | "json_schema";

/**
 * What one model of a provider can do (g4f keeps the same knowledge as
 * `vision_models`, `audio_models` and friends). A registry routes a request past a
 * model that lacks something the request needs, and a provider's pipeline refuses
 * such a call with an `InvalidOptionsError` naming the field: never a silent drop.
 */
export interface ModelCapabilities {
  /** The call features the model honours. */
  readonly features: readonly CallFeature[];
  /** Content parts beyond text it reads. */
  readonly inputs: readonly InputKind[];
  /** Structured-output modes it honours (with `responseFormat` among `features`). */
  readonly responseFormats: readonly ResponseFormatKind[];
}

/** The sampling features every chat provider of the reference honours. */
export const samplingFeatures: readonly CallFeature[] = [
  "temperature",
  "topP",
  "maxTokens",
  "frequencyPenalty",
  "presencePenalty",
];

/** A text-only chat model with the common sampling options: what a provider that says nothing has. */
export const textModelCapabilities: ModelCapabilities = Object.freeze<ModelCapabilities>({
  features: samplingFeatures,
  inputs: [],
  responseFormats: [],
});

/** Everything: what a model behind an OpenAI-compatible upstream is assumed to take unless configured otherwise. */
export const fullModelCapabilities: ModelCapabilities = Object.freeze<ModelCapabilities>({
  features: callFeatures,
  inputs: ["image", "audio", "file"],
  responseFormats: ["json_object", "json_schema"],
});

/** An image model: it reads a prompt and honours `n` (several images) only where it says so. */
export const imageModelCapabilities: ModelCapabilities = Object.freeze<ModelCapabilities>({
  features: [],
  inputs: [],
  responseFormats: [],
});

/**
 * One thing a call needs of its model: a feature, an input kind or a response
 * format, with the request field that asks for it (`tools`, `messages.2.content.0`,
 * `response_format`), named in OpenAI's wire names so an HTTP edge can quote it.
 */
export type CapabilityNeed =
  | { kind: "feature"; feature: CallFeature; field: string }
  | { kind: "input"; input: InputKind; field: string }
  | { kind: "responseFormat"; format: ResponseFormatKind; field: string };

/** The options a call's needs are read from: `ProviderOptions` or any object with its keys. */
export type CallFeatureValues = { readonly [Feature in CallFeature]?: unknown };

const partInputs: Readonly<Record<string, InputKind>> = {
  image_url: "image",
  input_audio: "audio",
  file: "file",
};

/**
 * What a call needs of its model: each feature option set (not null), each
 * content part beyond text, the response format, and tool-call history (an
 * assistant's `tool_calls` or a `tool` message need `tools`). `n: 1` and
 * `responseFormat: { type: "text" }` ask for nothing beyond plain text.
 */
export function capabilityNeeds(messages: Messages, options: CallFeatureValues): CapabilityNeed[] {
  const needs: CapabilityNeed[] = [];
  if (Object.getPrototypeOf(options) === Object.prototype) pushRecordFeatureNeeds(options, needs);
  else {
    for (const feature of callFeatures) {
      const need = featureNeed(feature, options[feature]);
      if (need !== undefined) needs.push(need);
    }
  }
  pushMessageNeeds(messages, options, needs);
  return needs;
}

/** Each call feature's place in `callFeatures`. */
const callFeatureOrder: ReadonlyMap<string, number> = new Map(
  callFeatures.map((feature, index) => [feature, index]),
);

/**
 * The feature needs of a plain object's options (a registry's or the core's reading
 * of a request), found from its own keys rather than by a lookup of each of the
 * twenty-one features, most of them absent: the same needs in the same order. Only
 * its enumerable keys count, as a spread of it would copy them; a plain object's keys
 * are.
 */
function pushRecordFeatureNeeds(options: CallFeatureValues, needs: CapabilityNeed[]): void {
  let found: number[] | undefined;
  const record = options as Record<string, unknown>;
  for (const key in record) {
    const index = callFeatureOrder.get(key);
    if (index === undefined || record[key] == null) continue;
    found ??= [];
    found.push(index);
  }
  if (found === undefined) return;
  if (found.length > 1) found.sort((left, right) => left - right);
  for (const index of found) {
    const feature = callFeatures[index] as CallFeature;
    const need = featureNeed(feature, record[feature]);
    if (need !== undefined) needs.push(need);
  }
}

// What an option's value asks of the model, if anything.
function featureNeed(feature: CallFeature, value: unknown): CapabilityNeed | undefined {
  if (value == null) return undefined;
  if (feature === "n" && value === 1) return undefined;
  if (feature === "responseFormat") {
    const type = (value as { type?: unknown }).type;
    if (type === "json_object" || type === "json_schema")
      return { kind: "responseFormat", format: type, field: "response_format" };
    return undefined;
  }
  return { kind: "feature", feature, field: callFeatureWireNames[feature] };
}

// The needs of the conversation: content parts beyond text, then tool-call history.
function pushMessageNeeds(
  messages: Messages,
  options: CallFeatureValues,
  needs: CapabilityNeed[],
): void {
  let toolHistory: string | undefined;
  // Index loops: this runs per call, twice in a registry (routing, then the provider).
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index] as Messages[number];
    if (message.role === "tool") toolHistory ??= `messages.${index}`;
    if (message.role === "assistant" && (message.tool_calls?.length ?? 0) > 0)
      toolHistory ??= `messages.${index}.tool_calls`;
    const content = message.content;
    if (!Array.isArray(content)) continue;
    for (let partIndex = 0; partIndex < content.length; partIndex++) {
      const part = content[partIndex] as (typeof content)[number];
      const input = partInputs[part.type];
      if (input !== undefined)
        needs.push({ kind: "input", input, field: `messages.${index}.content.${partIndex}` });
    }
  }
  if (toolHistory !== undefined && options.tools == null)
    needs.push({ kind: "feature", feature: "tools", field: toolHistory });
}

/**
 * The first need of a call that a model with `capabilities` does not meet, or
 * undefined when it meets them all: `unmetNeeds(capabilities, capabilityNeeds(messages,
 * options))[0]`, without listing the needs it meets. Only the options of the
 * features the model lacks are looked at (worked out once per capabilities object),
 * and a model that lacks nothing (an OpenAI-compatible upstream's default) costs
 * one lookup: a call pipeline checks every call with it.
 */
export function firstUnmetNeed(
  capabilities: ModelCapabilities,
  messages: Messages,
  options: CallFeatureValues,
): CapabilityNeed | undefined {
  const lacking = lackingOf(capabilities);
  if (lacking.nothing) return undefined;
  const unmet =
    Object.getPrototypeOf(options) === Object.prototype
      ? firstUnmetFeatureOfRecord(capabilities, lacking, options)
      : firstUnmetFeature(capabilities, lacking, options);
  if (unmet !== undefined) return unmet;
  if (!lacking.somethingOfMessages) return undefined;
  const needs: CapabilityNeed[] = [];
  pushMessageNeeds(messages, options, needs);
  return needs.find((need) => !meets(capabilities, need));
}

function firstUnmetFeature(
  capabilities: ModelCapabilities,
  lacking: Lacking,
  options: CallFeatureValues,
): CapabilityNeed | undefined {
  for (const feature of lacking.features) {
    const need = featureNeed(feature, options[feature]);
    if (need !== undefined && !meets(capabilities, need)) return need;
  }
  return undefined;
}

// `firstUnmetFeature` of a plain object, from its own keys (see `pushRecordFeatureNeeds`).
function firstUnmetFeatureOfRecord(
  capabilities: ModelCapabilities,
  lacking: Lacking,
  options: CallFeatureValues,
): CapabilityNeed | undefined {
  let first: CapabilityNeed | undefined;
  let firstIndex: number = callFeatures.length;
  const record = options as Record<string, unknown>;
  for (const key in record) {
    const index = callFeatureOrder.get(key);
    if (
      index === undefined ||
      index >= firstIndex ||
      !lacking.features.includes(key as CallFeature)
    )
      continue;
    const need = featureNeed(key as CallFeature, record[key]);
    if (need === undefined || meets(capabilities, need)) continue;
    first = need;
    firstIndex = index;
  }
  return first;
}

/** What a capabilities object lacks, as `firstUnmetNeed` walks it. */
interface Lacking {
  readonly of: ModelCapabilities;
  // The arrays and their lengths when this was worked out: the types say they are
  // not changed, and a changed one is worked out again rather than trusted.
  readonly lists: readonly (readonly unknown[])[];
  readonly lengths: readonly number[];
  /** The features whose need the model may not meet, in `callFeatures` order. */
  readonly features: readonly CallFeature[];
  /** Some input kind, or tool calls (which a conversation's tool history needs). */
  readonly somethingOfMessages: boolean;
  readonly nothing: boolean;
}

const inputKinds: readonly InputKind[] = ["image", "audio", "file"];

const lackingByCapabilities = new WeakMap<ModelCapabilities, Lacking>();

// The last one worked out: a provider's calls mostly ask about one capabilities
// object, which then costs a comparison rather than a WeakMap lookup.
let lastLacking: Lacking | undefined;

function lackingOf(capabilities: ModelCapabilities): Lacking {
  const known =
    lastLacking?.of === capabilities ? lastLacking : lackingByCapabilities.get(capabilities);
  const { features, inputs, responseFormats } = capabilities;
  if (
    known !== undefined &&
    known.lists[0] === features &&
    known.lists[1] === inputs &&
    known.lists[2] === responseFormats &&
    known.lengths[0] === features.length &&
    known.lengths[1] === inputs.length &&
    known.lengths[2] === responseFormats.length
  ) {
    lastLacking = known;
    return known;
  }
  const allFormats =
    features.includes("responseFormat") &&
    responseFormats.includes("json_object") &&
    responseFormats.includes("json_schema");
  const lackingFeatures = callFeatures.filter((feature) =>
    feature === "responseFormat" ? !allFormats : !features.includes(feature),
  );
  const somethingOfMessages =
    !features.includes("tools") || !inputKinds.every((input) => inputs.includes(input));
  const lacking: Lacking = {
    of: capabilities,
    lists: [features, inputs, responseFormats],
    lengths: [features.length, inputs.length, responseFormats.length],
    features: lackingFeatures,
    somethingOfMessages,
    nothing: lackingFeatures.length === 0 && !somethingOfMessages,
  };
  lackingByCapabilities.set(capabilities, lacking);
  lastLacking = lacking;
  return lacking;
}

/** The needs a model with `capabilities` does not meet, in the order they were found. */
export function unmetNeeds(
  capabilities: ModelCapabilities,
  needs: readonly CapabilityNeed[],
): CapabilityNeed[] {
  return needs.filter((need) => !meets(capabilities, need));
}

function meets(capabilities: ModelCapabilities, need: CapabilityNeed): boolean {
  if (need.kind === "feature") return capabilities.features.includes(need.feature);
  if (need.kind === "input") return capabilities.inputs.includes(need.input);
  return (
    capabilities.features.includes("responseFormat") &&
    capabilities.responseFormats.includes(need.format)
  );
}

const inputWords: Readonly<Record<InputKind, string>> = {
  image: "image input",
  audio: "audio input",
  file: "file input",
};

const featureWords: Partial<Record<CallFeature, string>> = {
  tools: "tool calls",
  toolChoice: "tool choice",
  parallelToolCalls: "parallel tool calls",
  n: "several choices (n > 1)",
  logprobs: "log probabilities",
  topLogprobs: "log probabilities",
  reasoningEffort: "reasoning effort",
  extraBody: "extra request fields",
};

/** What a need asks for, in words (`tool calls`, `image input`, `json_schema output`). */
export function describeNeed(need: CapabilityNeed): string {
  switch (need.kind) {
    case "feature":
      return featureWords[need.feature] ?? `\`${callFeatureWireNames[need.feature]}\``;
    case "input":
      return inputWords[need.input];
    case "responseFormat":
      return `${need.format} output`;
  }
}
