import {
  type CallFeature,
  callFeatures,
  callFeatureWireNames,
  capabilitiesOf,
  createCompletion,
  type InputKind,
  InvalidOptionsError,
  type Messages,
  type ModelCapabilities,
  type Provider,
  type ResponseFormatKind,
} from "@g4f-ts/provider-core";
import { expect, it } from "vitest";
import type { FakeServer } from "./fake-server.js";

/** What the capability checks read of the suite's state, once its `beforeAll` ran. */
export interface CapabilityConformanceContext {
  provider(): Provider;
  upstream(): FakeServer;
  chatModel(): string;
  imageModel: string | undefined;
}

const text = "Say hello";

/** A value of each call feature that any upstream would take. */
const sampleOptions: Readonly<Record<CallFeature, unknown>> = {
  temperature: 0.5,
  topP: 0.9,
  maxTokens: 32,
  maxCompletionTokens: 32,
  frequencyPenalty: 0.1,
  presencePenalty: 0.1,
  stop: ["\n\n\n"],
  seed: 7,
  n: 2,
  user: "conformance-suite",
  metadata: { suite: "conformance" },
  logitBias: { "50256": -1 },
  logprobs: true,
  topLogprobs: 1,
  reasoningEffort: "low",
  serviceTier: "auto",
  tools: [
    {
      type: "function",
      function: { name: "get_time", parameters: { type: "object", properties: {} } },
    },
  ],
  toolChoice: "auto",
  parallelToolCalls: true,
  responseFormat: { type: "json_object" },
  extraBody: { conformance_probe: true },
};

const formatSamples: Readonly<Record<ResponseFormatKind, unknown>> = {
  json_object: { type: "json_object" },
  json_schema: {
    type: "json_schema",
    json_schema: { name: "greeting", schema: { type: "object" } },
  },
};

const inputParts: Readonly<Record<InputKind, unknown>> = {
  image: { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
  audio: { type: "input_audio", input_audio: { data: "UklGRiQAAABXQVZF", format: "wav" } },
  file: { type: "file", file: { file_data: "data:text/plain;base64,aGk=", filename: "hi.txt" } },
};

function withPart(kind: InputKind): Messages {
  return [
    { role: "user", content: [{ type: "text", text }, inputParts[kind]] } as Messages[number],
  ];
}

const toolHistory: Messages = [
  { role: "user", content: "What time is it?" },
  {
    role: "assistant",
    content: null,
    tool_calls: [
      { id: "call_1", type: "function", function: { name: "get_time", arguments: "{}" } },
    ],
  },
  { role: "tool", tool_call_id: "call_1", content: "12:00" },
];

async function refusalOf(promise: Promise<unknown>): Promise<InvalidOptionsError> {
  try {
    await promise;
  } catch (error) {
    if (InvalidOptionsError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected an InvalidOptionsError, and the call succeeded");
}

/**
 * The capability checks of the conformance suite, for the chat model and (when given)
 * the image model: what a model's capabilities declare, a call may ask for without an
 * `InvalidOptionsError`; what they do not declare, a call is refused naming the
 * request field (`stop`, `response_format`, `messages.0.content.1`), before any
 * request reaches the upstream. A provider without a `capabilities` method declares
 * nothing of its own: what a registry assumes of it (`capabilitiesOf`) is what it
 * must accept, and a feature beyond that is one a registry never sends it.
 */
export function describeCapabilityConformance(context: CapabilityConformanceContext): void {
  const capabilities = (model: string): ModelCapabilities =>
    capabilitiesOf(context.provider(), context.provider().getModel(model));
  const declares = () => context.provider().capabilities !== undefined;

  // Accepted: the call goes through to the fake and answers.
  const accepts = async (model: string, messages: Messages, options: Record<string, unknown>) => {
    const completion = await createCompletion(context.provider(), model, messages, options);
    expect(completion.text.length + completion.images.length).toBeGreaterThan(0);
  };

  // Refused, naming the field, with nothing sent.
  const refuses = async (
    model: string,
    messages: Messages,
    options: Record<string, unknown>,
    field: string,
  ) => {
    const sent = context.upstream().requests.length;
    const error = await refusalOf(createCompletion(context.provider(), model, messages, options));
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
    expect(context.upstream().requests.length).toBe(sent);
  };

  for (const feature of callFeatures) {
    if (feature === "responseFormat") continue;
    const field = callFeatureWireNames[feature];
    it(`honours \`${field}\` on its chat model when it declares it, and refuses it naming the field otherwise`, async () => {
      const model = context.chatModel();
      const options = { [feature]: sampleOptions[feature] };
      const messages: Messages = [{ role: "user", content: text }];
      if (capabilities(model).features.includes(feature)) await accepts(model, messages, options);
      else if (declares()) await refuses(model, messages, options, field);
      else expect(capabilitiesOf(context.provider(), model).features).not.toContain(feature);
    });
  }

  for (const format of ["json_object", "json_schema"] as const) {
    it(`honours a ${format} response format on its chat model when it declares it, and refuses it otherwise`, async () => {
      const model = context.chatModel();
      const declared = capabilities(model);
      const options = { responseFormat: formatSamples[format] };
      const messages: Messages = [{ role: "user", content: `${text} in JSON` }];
      if (declared.features.includes("responseFormat") && declared.responseFormats.includes(format))
        await accepts(model, messages, options);
      else if (declares()) await refuses(model, messages, options, "response_format");
      else expect(declared.responseFormats).not.toContain(format);
    });
  }

  for (const kind of ["image", "audio", "file"] as const) {
    it(`reads ${kind} parts on its chat model when it declares them, and refuses them naming the part otherwise`, async () => {
      const model = context.chatModel();
      if (capabilities(model).inputs.includes(kind)) await accepts(model, withPart(kind), {});
      else if (declares()) await refuses(model, withPart(kind), {}, "messages.0.content.1");
      else expect(capabilities(model).inputs).not.toContain(kind);
    });
  }

  it("takes a tool-call history on its chat model only when it declares tools", async () => {
    const model = context.chatModel();
    if (capabilities(model).features.includes("tools"))
      await accepts(model, toolHistory, { tools: sampleOptions.tools });
    else if (declares()) await refuses(model, toolHistory, {}, "messages.1.tool_calls");
    else expect(capabilities(model).features).not.toContain("tools");
  });

  const imageModel = context.imageModel;
  if (imageModel !== undefined) {
    it("honours on its image model exactly the call features it declares there", async () => {
      const declared = capabilities(imageModel);
      const prompt: Messages = [{ role: "user", content: "a cat" }];
      for (const feature of callFeatures) {
        if (feature === "responseFormat") continue;
        const options = { [feature]: sampleOptions[feature] };
        if (declared.features.includes(feature)) await accepts(imageModel, prompt, options);
        else if (declares())
          await refuses(imageModel, prompt, options, callFeatureWireNames[feature]);
      }
      expect(declared.features.length).toBeLessThan(callFeatures.length);
    });
  }
}
