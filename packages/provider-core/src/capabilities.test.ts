import { describe, expect, it } from "vitest";
import { CallPipeline } from "./call-pipeline.js";
import {
  type CallFeature,
  type CallFeatureValues,
  callFeatures,
  capabilityNeeds,
  describeNeed,
  firstUnmetNeed,
  fullModelCapabilities,
  type InputKind,
  imageModelCapabilities,
  type ModelCapabilities,
  samplingFeatures,
  textModelCapabilities,
  unmetNeeds,
} from "./capabilities.js";
import type { Messages } from "./messages.js";
import { capabilitiesOf, ModelCatalog } from "./model-resolution.js";
import { InvalidOptionsError } from "./provider-options.js";

const hello: Messages = [{ role: "user", content: "Hi" }];
const weather = {
  type: "function" as const,
  function: { name: "weather", parameters: { type: "object" } },
};

describe("capabilityNeeds", () => {
  it("asks nothing of a plain conversation with sampling options a text model honours", () => {
    const needs = capabilityNeeds(hello, { temperature: 0.2, maxTokens: 10, n: 1 });
    expect(unmetNeeds(textModelCapabilities, needs)).toEqual([]);
  });

  it("names each request field by its wire name", () => {
    const needs = capabilityNeeds(hello, {
      tools: [weather],
      toolChoice: "required",
      maxCompletionTokens: 5,
      topLogprobs: 2,
      responseFormat: { type: "json_schema", json_schema: { name: "x" } },
    });
    expect(needs.map((need) => need.field)).toEqual([
      "max_completion_tokens",
      "top_logprobs",
      "tools",
      "tool_choice",
      "response_format",
    ]);
    expect(unmetNeeds(fullModelCapabilities, needs)).toEqual([]);
  });

  it("treats a text response format and n = 1 as plain text", () => {
    expect(capabilityNeeds(hello, { responseFormat: { type: "text" }, n: 1 })).toEqual([]);
    expect(capabilityNeeds(hello, { n: 2 })).toEqual([
      { kind: "feature", feature: "n", field: "n" },
    ]);
  });

  it("finds image, audio and file parts and tool-call history in the messages", () => {
    const messages: Messages = [
      {
        role: "user",
        content: [
          { type: "text", text: "look" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AA==" } },
          { type: "input_audio", input_audio: { data: "AA==", format: "wav" } },
        ],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "c1", content: "42" },
      { role: "user", content: [{ type: "file", file: { file_id: "file-1" } }] },
    ];
    const unmet = unmetNeeds(textModelCapabilities, capabilityNeeds(messages, {}));
    expect(unmet.map((need) => [need.field, describeNeed(need)])).toEqual([
      ["messages.0.content.1", "image input"],
      ["messages.0.content.2", "audio input"],
      ["messages.3.content.0", "file input"],
      ["messages.1.tool_calls", "tool calls"],
    ]);
  });

  it("does not count tool history twice when the call also offers tools", () => {
    const messages: Messages = [{ role: "tool", tool_call_id: "c1", content: "42" }];
    expect(capabilityNeeds(messages, { tools: [weather] })).toEqual([
      { kind: "feature", feature: "tools", field: "tools" },
    ]);
  });

  it("needs the response format kind, not only the feature", () => {
    const needs = capabilityNeeds(hello, { responseFormat: { type: "json_object" } });
    const jsonObjectOnly = { ...fullModelCapabilities, responseFormats: ["json_schema" as const] };
    expect(unmetNeeds(jsonObjectOnly, needs).map(describeNeed)).toEqual(["json_object output"]);
  });
});

describe("capabilities of a provider", () => {
  it("are read from a catalog's table, per model, with image models honouring nothing", () => {
    const catalog = new ModelCatalog({
      label: "T",
      defaultModel: "a",
      chatModels: ["a", "b"],
      imageModels: ["img"],
      capabilities: fullModelCapabilities,
    });
    expect(catalog.capabilities("a")).toBe(fullModelCapabilities);
    expect(catalog.capabilities("img").features).toEqual([]);
    const perModel = new ModelCatalog({
      label: "T",
      defaultModel: "a",
      chatModels: ["a", "b"],
      capabilities: (model) => (model === "b" ? fullModelCapabilities : textModelCapabilities),
    });
    expect(perModel.capabilities("a")).toBe(textModelCapabilities);
    expect(perModel.capabilities("b")).toBe(fullModelCapabilities);
  });

  it("default to a text model for a provider that says nothing", () => {
    const silent = { imageModels: ["img"] } as unknown as Parameters<typeof capabilitiesOf>[0];
    expect(capabilitiesOf(silent, "chat")).toBe(textModelCapabilities);
    expect(capabilitiesOf(silent, "img").features).toEqual([]);
  });

  it("make a pipeline refuse a call the model can not honour, naming the field", () => {
    const pipeline = new CallPipeline({ provider: "T" });
    expect(() => pipeline.start(hello, { seed: 7 }, textModelCapabilities)).toThrow(
      expect.objectContaining({ field: "seed", message: expect.stringContaining('"seed"') }),
    );
    expect(() => pipeline.start(hello, { tools: [weather] }, textModelCapabilities)).toThrow(
      InvalidOptionsError,
    );
    expect(
      pipeline.start(hello, { seed: 7, tools: [weather] }, fullModelCapabilities).options.seed,
    ).toBe(7);
  });

  it("read g4f's spellings of the new options", () => {
    const pipeline = new CallPipeline({ provider: "T" });
    const call = pipeline.start(hello, {
      tool_choice: "auto",
      response_format: { type: "json_object" },
      max_completion_tokens: 9,
    });
    expect(call.options.toolChoice).toBe("auto");
    expect(call.options.responseFormat).toEqual({ type: "json_object" });
    expect(call.options.maxCompletionTokens).toBe(9);
  });

  it("check every message form before it goes on the wire", () => {
    const pipeline = new CallPipeline({ provider: "T" });
    expect(() =>
      pipeline.start([{ role: "tool", content: "x" } as unknown as Messages[number]], {}),
    ).toThrow(expect.objectContaining({ field: "messages.0.tool_call_id" }));
    expect(() =>
      pipeline.start([{ role: "robot", content: "x" } as unknown as Messages[number]], {}),
    ).toThrow(InvalidOptionsError);
  });
});

describe("firstUnmetNeed", () => {
  const capabilitySets: ModelCapabilities[] = [
    fullModelCapabilities,
    textModelCapabilities,
    imageModelCapabilities,
    { features: samplingFeatures, inputs: ["image"], responseFormats: [] },
    {
      features: ["responseFormat", "tools"],
      inputs: ["audio", "file"],
      responseFormats: ["json_object"],
    },
    {
      features: callFeatures,
      inputs: ["image", "audio", "file"],
      responseFormats: ["json_schema"],
    },
    {
      features: callFeatures.filter((feature) => feature !== "tools"),
      inputs: ["image", "audio", "file"],
      responseFormats: ["json_object", "json_schema"],
    },
  ];
  const optionSets: CallFeatureValues[] = [
    {},
    { temperature: 0.2, topP: null },
    { n: 1 },
    { n: 2, seed: 3 },
    { responseFormat: { type: "text" } },
    { responseFormat: { type: "json_object" }, tools: [] },
    { responseFormat: { type: "json_schema" }, logprobs: true },
    { tools: [{}], toolChoice: "auto", extraBody: { a: 1 } },
    Object.fromEntries(callFeatures.map((feature) => [feature, 1])),
  ];
  const conversations: Messages[] = [
    [{ role: "user", content: "hi" }],
    [
      {
        role: "user",
        content: [
          { type: "text", text: "a" },
          { type: "image_url", image_url: { url: "u" } },
        ],
      },
    ],
    [
      {
        role: "user",
        content: [{ type: "input_audio", input_audio: { data: "", format: "wav" } }],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }],
      },
      { role: "tool", content: "r", tool_call_id: "c" },
    ],
    [
      { role: "tool", content: "r", tool_call_id: "c" },
      { role: "user", content: [{ type: "file", file: {} }] },
    ] as Messages,
  ];

  it("names the need unmetNeeds(capabilities, capabilityNeeds(…)) lists first, for every model, call and conversation", () => {
    let compared = 0;
    for (const capabilities of capabilitySets)
      for (const options of optionSets)
        for (const messages of conversations) {
          const expected = unmetNeeds(capabilities, capabilityNeeds(messages, options))[0];
          expect(firstUnmetNeed(capabilities, messages, options)).toEqual(expected);
          // Read feature by feature when not a plain object.
          expect(firstUnmetNeed(capabilities, messages, Object.create(options))).toEqual(expected);
          const reversed = Object.fromEntries(Object.entries(options).reverse());
          expect(firstUnmetNeed(capabilities, messages, reversed)).toEqual(expected);
          compared++;
        }
    expect(compared).toBe(capabilitySets.length * optionSets.length * conversations.length);
  });

  it("lists the same needs in the same order from a plain options object as from any other", () => {
    for (const options of optionSets) {
      const reversed = Object.fromEntries(Object.entries(options).reverse());
      for (const messages of conversations) {
        const general = capabilityNeeds(messages, Object.create(options));
        expect(capabilityNeeds(messages, options)).toEqual(general);
        expect(capabilityNeeds(messages, reversed)).toEqual(general);
      }
    }
  });

  it("follows a capabilities object whose lists were replaced or grew since its first use", () => {
    const capabilities: { features: CallFeature[]; inputs: InputKind[]; responseFormats: [] } = {
      features: ["temperature"],
      inputs: [],
      responseFormats: [],
    };
    const messages: Messages = [{ role: "user", content: "hi" }];
    expect(firstUnmetNeed(capabilities, messages, { seed: 1 })).toMatchObject({ field: "seed" });
    capabilities.features.push("seed");
    expect(firstUnmetNeed(capabilities, messages, { seed: 1 })).toBeUndefined();
    capabilities.features = ["temperature"];
    expect(firstUnmetNeed(capabilities, messages, { seed: 1 })).toMatchObject({ field: "seed" });
  });
});
