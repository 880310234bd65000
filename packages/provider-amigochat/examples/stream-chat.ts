// The seed's third example: a system message, and the answer streamed as it comes.
// Run: AMIGOCHAT_BASE_URL=http://127.0.0.1:8080 npx tsx examples/stream-chat.ts
import type { Messages } from "@g4f-ts/provider-core";
import { AmigoChat } from "../src/index.js";
import { type Print, printToStdout, runIfMain } from "./run-if-main.js";

const messages: Messages = [
  { role: "system", content: "You are a friendly assistant." },
  { role: "user", content: "Hi! How are you?" },
];

/** Print the deltas without line breaks as they arrive; returns them. */
export async function main(print: Print = printToStdout): Promise<string[]> {
  const printed: string[] = [];
  const provider = new AmigoChat();
  for await (const chunk of provider.createAsyncGenerator("gpt-4o-mini", messages, {
    stream: true,
  })) {
    if (typeof chunk !== "string") continue;
    printed.push(chunk);
    print(chunk);
  }
  print("\n");
  return printed;
}

runIfMain(import.meta.url, main);
