// Chat with a local Ollama, or any OpenAI-compatible server, through the provider.
// Run: npx tsx examples/ollama-chat.ts
// Another server: OPENAI_COMPATIBLE_BASE_URL=http://127.0.0.1:8000/v1 npx tsx examples/ollama-chat.ts
// In your own code, import from "@g4f-ts/provider-openai-compatible" instead.
import { pathToFileURL } from "node:url";
import { type Messages, Usage } from "@g4f-ts/provider-core";
import { OpenAICompatible } from "../src/index.js";

/** List the models, then stream one answer from the default model; returns its text. */
export async function main(
  print: (text: string) => void = (text) => process.stdout.write(text),
): Promise<string> {
  const ollama = new OpenAICompatible({
    id: "ollama",
    // The base URL carries the API version; the provider appends /chat/completions.
    baseUrl: process.env.OPENAI_COMPATIBLE_BASE_URL ?? "http://127.0.0.1:11434/v1",
  });
  // GET /v1/models: after this, getModels() lists them and unknown names are refused.
  const models = await ollama.refreshModels();
  print(`models: ${models.join(", ")}\n`);

  const messages: Messages = [{ role: "user", content: "Why is the sky blue? One sentence." }];
  let text = "";
  for await (const chunk of ollama.createAsyncGenerator(ollama.defaultModel, messages, {
    stream: true,
    temperature: 0.2,
  })) {
    if (typeof chunk === "string") {
      text += chunk;
      print(chunk);
    } else if (chunk instanceof Usage) {
      print(`\n(${chunk.totalTokens} tokens)\n`);
    }
  }
  return text;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
    process.exitCode = 1;
  });
}
