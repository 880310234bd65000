import { closeDispatchers } from "@g4f-ts/provider-core";
import type { OpenAICompatible } from "@g4f-ts/provider-openai-compatible";
import { startTestServer, type TestServer, type TestServerHandler } from "@g4f-ts/testkit";
import OpenAI from "openai";
import { afterAll, afterEach } from "vitest";
import { type RunningServer, startServer } from "../src/server.js";

/**
 * For a test file that drives the registry with the official `openai` client: fake
 * upstreams and registries started by its tests, every one closed after each test
 * (and the core's pooled connections after the file).
 */
export function openAIClientRegistries() {
  const upstreams: TestServer[] = [];
  const servers: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close(0)));
    await Promise.all(upstreams.splice(0).map((upstream) => upstream.close()));
  });
  afterAll(async () => {
    await closeDispatchers();
  });
  return {
    /** A fake upstream on a free loopback port. */
    async upstream(handler: TestServerHandler): Promise<TestServer> {
      const server = await startTestServer(handler);
      upstreams.push(server);
      return server;
    },
    /** A registry of exactly `providers` (no discovery), and an `openai` client of it. */
    async serve(providers: OpenAICompatible[]) {
      const server = await startServer({
        discover: false,
        config: { logLevel: "silent" },
        providers,
        port: 0,
        env: {},
      });
      servers.push(server);
      return {
        server,
        openai: new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "sk-test", maxRetries: 0 }),
      };
    },
  };
}
