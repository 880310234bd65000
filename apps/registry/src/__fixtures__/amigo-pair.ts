import { closeDispatchers, type Provider } from "@g4f-ts/provider-core";
import { type AmigoChatFake, type AmigoChatFakeOptions, startAmigoChatFake } from "@g4f-ts/testkit";
import type { RegistryConfigInput } from "../config.js";
import { type RunningServer, startServer } from "../server.js";

export interface AmigoPair {
  a: AmigoChatFake;
  b: AmigoChatFake;
  server: RunningServer;
  close(): Promise<void>;
}

export interface AmigoPairOptions {
  fake?: AmigoChatFakeOptions;
  /** Replaces the base URL of `amigo-a` (e.g. a closed port). */
  baseUrlA?: string;
  config?: Omit<RegistryConfigInput, "providers">;
  /** In-memory providers beside the two AmigoChat instances. */
  providers?: Provider[];
  env?: Record<string, string>;
}

/**
 * Two AmigoChat instances of the real provider package, `amigo-a` (tried first)
 * and `amigo-b`, each on its own local fake upstream, behind a registry server on
 * a free port. Each instance makes one attempt per call, so the registry's own
 * fallback is what a test sees.
 */
export async function startAmigoPair(options: AmigoPairOptions = {}): Promise<AmigoPair> {
  const a = await startAmigoChatFake(options.fake);
  const b = await startAmigoChatFake(options.fake);
  const instance = (id: string, baseUrl: string) => ({
    id,
    use: "@g4f-ts/provider-amigochat",
    options: { baseUrl, label: id, retry: { maxAttempts: 1 }, timeouts: { connectMs: 1_000 } },
  });
  const config: RegistryConfigInput = {
    discovery: { installed: false },
    logLevel: "silent",
    ...options.config,
    routing: {
      ...options.config?.routing,
      timeouts: {
        firstChunkMs: 500,
        idleMs: 2_000,
        totalMs: 10_000,
        ...options.config?.routing?.timeouts,
      },
    },
    cooldown: { failureThreshold: 3, durationMs: 5_000, ...options.config?.cooldown },
    providers: [instance("amigo-a", options.baseUrlA ?? a.url), instance("amigo-b", b.url)],
  };
  const server = await startServer({
    config,
    providers: options.providers ?? [],
    port: 0,
    env: options.env ?? {},
  });
  if (server.registry.problems.length > 0)
    throw new Error(`the registry skipped providers: ${JSON.stringify(server.registry.problems)}`);
  return {
    a,
    b,
    server,
    close: async () => {
      await server.close(0);
      await Promise.all([a.close(), b.close()]);
      await closeDispatchers();
    },
  };
}

/** POST a JSON body to the registry server. */
export function postJson(
  server: RunningServer,
  path: string,
  body: unknown,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...init.headers },
    body: JSON.stringify(body),
    signal: init.signal,
  });
}

/** The `data:` payloads of an SSE body, in order. */
export function sseData(text: string): string[] {
  return text
    .split("\n\n")
    .filter((event) => event.startsWith("data: "))
    .map((event) => event.slice("data: ".length));
}

/** The text content of the chat chunks among SSE payloads. */
export function streamedText(payloads: readonly string[]): string {
  let text = "";
  for (const payload of payloads) {
    if (payload === "[DONE]") continue;
    const chunk = JSON.parse(payload) as { choices?: { delta?: { content?: string } }[] };
    text += chunk.choices?.[0]?.delta?.content ?? "";
  }
  return text;
}
