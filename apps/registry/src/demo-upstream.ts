import type * as Testkit from "@g4f-ts/testkit";

/** A local stand-in for a provider's upstream, for `g4f-ts serve --demo`. */
export interface DemoUpstream {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The environment variable that points the provider at it. */
  readonly variable: string;
  close(): Promise<void>;
}

function modelOf(body: unknown): string {
  const model =
    typeof body === "object" && body !== null ? (body as { model?: unknown }).model : undefined;
  return typeof model === "string" ? model : "a model";
}

/**
 * Start the testkit's AmigoChat fake on a free loopback port, so that the
 * registry answers without any network: the AmigoChat service itself is long gone.
 * The testkit is loaded only here, so the registry runs without it; `--demo` then
 * says what is missing.
 */
export async function startDemoUpstream(): Promise<DemoUpstream> {
  let testkit: typeof Testkit;
  try {
    testkit = await import("@g4f-ts/testkit");
  } catch {
    throw new Error(
      "--demo needs the package @g4f-ts/testkit (a dev dependency of the g4f-ts workspace), which is not installed here",
    );
  }
  const fake = await testkit.startAmigoChatFake({
    chunkDelayMs: 25,
    usage: true,
    reply: (request) =>
      `Hello! This is the g4f-ts demo upstream answering as ${modelOf(request.json)}; nothing left this machine.`,
  });
  return { url: fake.url, variable: "AMIGOCHAT_BASE_URL", close: () => fake.close() };
}
