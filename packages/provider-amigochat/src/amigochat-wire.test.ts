import { describe, expect, it } from "vitest";
import {
  amigoChatChatBody,
  amigoChatHeaders,
  amigoChatImageAnswerSchema,
  amigoChatImageBody,
  amigoChatImageUrls,
} from "./amigochat-wire.js";

describe("amigoChatHeaders", () => {
  it("are the 17 headers of the browser client, with the given device uuid", () => {
    expect(amigoChatHeaders("0f6b4c1e-0000-4000-8000-000000000000")).toMatchInlineSnapshot(`
      {
        "accept": "*/*",
        "accept-language": "en-US,en;q=0.9",
        "authorization": "Bearer",
        "cache-control": "no-cache",
        "content-type": "application/json",
        "origin": "https://amigochat.io/chat/",
        "pragma": "no-cache",
        "priority": "u=1, i",
        "referer": "https://amigochat.io/chat//",
        "sec-ch-ua": ""Chromium";v="129", "Not=A?Brand";v="8"",
        "sec-ch-ua-mobile": "?0",
        "sec-ch-ua-platform": ""Linux"",
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
        "x-device-language": "en-US",
        "x-device-platform": "web",
        "x-device-uuid": "0f6b4c1e-0000-4000-8000-000000000000",
        "x-device-version": "1.0.45",
      }
    `);
  });
});

describe("the request bodies", () => {
  it("name the chat fields as the wire does and keep only role and content of messages", () => {
    const body = amigoChatChatBody(
      {
        chatId: "c",
        model: "gpt-4o-mini",
        personaId: "amigo",
        messages: [{ role: "user", content: "Hi", name: "x" } as never],
      },
      {
        stream: false,
        frequencyPenalty: 0,
        maxTokens: 4000,
        presencePenalty: 0,
        temperature: 0.5,
        topP: 0.95,
      },
    );
    expect(JSON.stringify(body)).toBe(
      '{"chatId":"c","frequency_penalty":0,"max_tokens":4000,"messages":[{"role":"user","content":"Hi"}],"model":"gpt-4o-mini","personaId":"amigo","presence_penalty":0,"stream":false,"temperature":0.5,"top_p":0.95}',
    );
  });

  it("send prompt, model and persona id for an image", () => {
    expect(
      JSON.stringify(
        amigoChatImageBody({ prompt: "p", model: "dall-e-3", personaId: "dalle-three" }),
      ),
    ).toBe('{"prompt":"p","model":"dall-e-3","personaId":"dalle-three"}');
  });
});

describe("the image answer schema", () => {
  it("reads data URLs and tolerates a missing data", () => {
    expect(amigoChatImageAnswerSchema.parse({ data: [{ url: "u", revised: "x" }], id: 1 })).toEqual(
      {
        data: [{ url: "u" }],
      },
    );
    expect(amigoChatImageAnswerSchema.parse({}).data).toBeUndefined();
  });

  it("reads an answer whose items lack a URL, and skips those items", () => {
    const answer = amigoChatImageAnswerSchema.parse({
      data: [{ url: "" }, {}, { url: "https://x.test/1.png" }, null],
    });
    expect(amigoChatImageUrls(answer)).toEqual(["https://x.test/1.png"]);
  });
});
