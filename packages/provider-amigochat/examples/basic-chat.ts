// The seed's first example: a chat with the default options (not streamed).
// Run: AMIGOCHAT_BASE_URL=http://127.0.0.1:8080 npx tsx examples/basic-chat.ts
// In your own code, import from "@g4f-ts/provider-amigochat" instead.
import type { Messages } from "@g4f-ts/provider-core";
import { AmigoChat } from "../src/index.js";
import { type Print, printToStdout, runIfMain } from "./run-if-main.js";

const messages: Messages = [{ role: "user", content: "Hi! Tell me about yourself." }];

/** Print each text chunk of the answer on its own line; returns what it printed. */
export async function main(print: Print = printToStdout): Promise<string[]> {
  const printed: string[] = [];
  const provider = new AmigoChat();
  for await (const chunk of provider.createAsyncGenerator("gpt-4o-mini", messages)) {
    // Besides text, a provider yields metadata (FinishReason, Usage): skipped here.
    if (typeof chunk !== "string") continue;
    printed.push(chunk);
    print(`${chunk}\n`);
  }
  return printed;
}

runIfMain(import.meta.url, main);
