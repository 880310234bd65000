// The provider layer alone under real load: minimal-proxy.mjs with the upstream call
// made through the AmigoChat provider (provider-core's pipeline, HTTP client and
// chunk model) instead of a bare undici pool, and no registry around it. Against
// minimal-proxy.mjs it is what the provider layer costs; against the registry, what
// the registry's layers cost above their provider. The answer is gathered from the
// provider's chunks and written as a `chat.completion` like the minimal proxy's.
// Usage: node provider-proxy.mjs <upstream origin> [checkout root]; prints {"port": n}.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { serveChatProxy } from "./chat-proxy-server.mjs";

const root = resolve(process.argv[3] ?? fileURLToPath(new URL("..", import.meta.url)));
const { AmigoChat } = await import(`${root}/packages/provider-amigochat/dist/index.js`);
const { FinishReason, Usage } = await import(`${root}/packages/provider-core/dist/index.js`);
const amigoChat = new AmigoChat({ baseUrl: process.argv[2], retry: { maxAttempts: 1 } });

serveChatProxy(async (asked) => {
  let content = "";
  let finishReason = "stop";
  let usage;
  for await (const chunk of amigoChat.createAsyncGenerator(asked.model, asked.messages)) {
    if (typeof chunk === "string") content += chunk;
    else if (chunk instanceof FinishReason) finishReason = chunk.reason;
    else if (chunk instanceof Usage) usage = chunk;
  }
  return {
    content,
    finishReason,
    usage:
      usage === undefined
        ? undefined
        : {
            prompt_tokens: usage.promptTokens,
            completion_tokens: usage.completionTokens,
            total_tokens: usage.totalTokens,
          },
  };
});
