// The seed's second example: an image from an image model.
// Run: AMIGOCHAT_BASE_URL=http://127.0.0.1:8080 npx tsx examples/image.ts
import { ImageResponse, type Messages } from "@g4f-ts/provider-core";
import { AmigoChat } from "../src/index.js";
import { type Print, printToStdout, runIfMain } from "./run-if-main.js";

const messages: Messages = [{ role: "user", content: "Generate a picture of a kitten." }];

/** Print the URLs of the generated images; returns what it printed. */
export async function main(print: Print = printToStdout): Promise<string[]> {
  const printed: string[] = [];
  const provider = new AmigoChat();
  for await (const chunk of provider.createAsyncGenerator("flux-realism", messages)) {
    const line =
      chunk instanceof ImageResponse
        ? `Generated image: ${chunk.images.join(", ")}`
        : typeof chunk === "string"
          ? chunk
          : undefined;
    if (line === undefined) continue;
    printed.push(line);
    print(`${line}\n`);
  }
  return printed;
}

runIfMain(import.meta.url, main);
