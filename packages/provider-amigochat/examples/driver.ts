// The seed's last example: the driver methods createChat, createImage, streamChat,
// and a call through a proxy (only when AMIGOCHAT_PROXY names one).
// Run: AMIGOCHAT_BASE_URL=http://127.0.0.1:8080 npx tsx examples/driver.ts
import { AmigoChat } from "../src/index.js";
import { type Print, printToStdout, runIfMain } from "./run-if-main.js";

/** Use each driver method once; returns one entry per thing it printed. */
export async function main(print: Print = printToStdout): Promise<string[]> {
  const printed: string[] = [];
  const say = (text: string) => {
    printed.push(text);
    print(`${text}\n`);
  };
  const driver = new AmigoChat();

  // A new chat with gpt-4o-mini: one id for the whole conversation.
  const chatId = driver.generateChatId();
  const response = await driver.createChat({
    model: "gpt-4o-mini",
    chatId,
    messages: [{ role: "user", content: "Hi!" }],
  });
  say(response);

  const image = await driver.createImage({
    model: "flux-realism",
    prompt: "Generate a picture of a kitten",
  });
  say(`Generated image: ${image.images.join(", ")}`);

  let streamed = "";
  for await (const chunk of driver.streamChat({
    model: "gpt-4o-mini",
    chatId,
    messages: [{ role: "user", content: "How are you?" }],
  })) {
    streamed += chunk;
    print(chunk);
  }
  print("\n");
  printed.push(streamed);

  const proxy = process.env.AMIGOCHAT_PROXY;
  if (proxy) {
    const viaProxy = await driver.createChat({
      model: "gpt-4o-mini",
      chatId,
      messages: [{ role: "user", content: "Hi!" }],
      proxy,
    });
    say(viaProxy);
  }
  return printed;
}

runIfMain(import.meta.url, main);
