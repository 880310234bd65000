import type { Fault, RecordedRequest } from "@g4f-ts/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type AmigoPair, postJson, startAmigoPair } from "./__fixtures__/amigo-pair.js";
import { type ChatOrErrorBody, type ProvidersBody, readJson } from "./__fixtures__/http-bodies.js";

/**
 * Finding 5 of issue 14, end to end: two AmigoChat upstreams behind the registry,
 * clients told apart by their API keys, and an upstream that never sends the first
 * chunk of a 400 KB prompt (a first-chunk timeout of 200 ms here).
 */
let pair: AmigoPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

const clients = ["mallory", "trudy", "oscar", "alice", "bob"];
const hugePrompt = "x".repeat(400_000);
const ordinaryPrompt = "Summarise the plot of Hamlet in two sentences.";

/** Both upstreams stall on huge prompts and answer the rest. */
const stallOnHugePrompts = (request: RecordedRequest): Fault | undefined =>
  request.bodyText.length > 100_000 ? { kind: "delay-first-chunk", ms: 5_000 } : undefined;

async function start(): Promise<AmigoPair> {
  pair = await startAmigoPair({
    config: {
      server: { apiKeys: clients.map((client) => ({ env: `${client.toUpperCase()}_KEY` })) },
      routing: { timeouts: { firstChunkMs: 200 } },
    },
    env: Object.fromEntries(
      clients.map((client) => [`${client.toUpperCase()}_KEY`, `${client}-key`]),
    ),
  });
  pair.a.setFaults(stallOnHugePrompts);
  pair.b.setFaults(stallOnHugePrompts);
  return pair;
}

async function chatAs(current: AmigoPair, client: string, content: string) {
  const response = await postJson(
    current.server,
    "/v1/chat/completions",
    { model: "gpt-4o-mini", messages: [{ role: "user", content }] },
    { headers: { authorization: `Bearer ${client}-key` } },
  );
  return { response, body: await readJson<ChatOrErrorBody>(response) };
}

async function healthOf(current: AmigoPair) {
  const response = await fetch(`${current.server.url}/v1/providers`, {
    headers: { authorization: "Bearer alice-key" },
  });
  return (await readJson<ProvidersBody>(response)).data.map((provider) => provider.health);
}

describe("cooldowns fair between clients", () => {
  it("does not let one client's three huge prompts cool the model down for another client", async () => {
    const current = await start();
    for (let index = 0; index < 3; index++) {
      const { response, body } = await chatAs(current, "mallory", hugePrompt);
      expect(response.status).toBe(502);
      expect(body.error.attempts?.map((attempt) => attempt.reason)).toEqual(["timeout", "timeout"]);
    }
    const { response, body } = await chatAs(current, "alice", ordinaryPrompt);
    expect(response.status).toBe(200);
    expect(body.provider).toBe("amigo-a");
    // The client that kept failing is the one that waits.
    const again = await chatAs(current, "mallory", hugePrompt);
    expect(again.response.status).toBe(503);
    expect(again.body.error.code).toBe("providers_cooling_down");
    expect(current.a.requests).toHaveLength(4);
    expect((await healthOf(current))[0]).toMatchObject({
      status: "ok",
      clients_cooling_down: 1,
    });
  });

  it("cools the model down for everyone when the same failures come from three distinct clients", async () => {
    const current = await start();
    for (const client of ["mallory", "trudy", "oscar"])
      expect((await chatAs(current, client, hugePrompt)).response.status).toBe(502);
    const { response, body } = await chatAs(current, "alice", ordinaryPrompt);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(body.error.code).toBe("providers_cooling_down");
    expect((await healthOf(current)).map((health) => health.status)).toEqual([
      "cooling_down",
      "cooling_down",
    ]);
  });

  it("blames first-chunk timeouts of prompts far larger than the ones the upstream answers on the prompts", async () => {
    const current = await start();
    expect((await chatAs(current, "alice", ordinaryPrompt)).response.status).toBe(200);
    for (const client of ["mallory", "trudy", "oscar"])
      expect((await chatAs(current, client, hugePrompt)).response.status).toBe(502);
    const { response, body } = await chatAs(current, "bob", ordinaryPrompt);
    expect(response.status).toBe(200);
    expect(body.provider).toBe("amigo-a");
    expect((await healthOf(current))[0]).toMatchObject({ status: "ok", consecutive_failures: 0 });
  });
});
