import type { ServerResponse } from "node:http";
import type { ErrorBodyFormat, FakeAnswer } from "./answer-delivery.js";
import { deliverAnswer } from "./answer-delivery.js";
import type { FaultPlan } from "./faults.js";
import { createFaultSchedule } from "./faults.js";
import type { ReplySource } from "./reply-text.js";
import { defaultReply } from "./reply-text.js";
import { sendJson } from "./responses.js";
import type { RecordedRequest, TestServer, TestServerOptions } from "./test-server.js";
import { startTestServer } from "./test-server.js";

/** The test server under a protocol fake, without `setHandler`: the fake owns the routing. */
export interface FakeServer extends Omit<TestServer, "setHandler"> {
  /** Replaces the fault plan; `undefined` makes every later answer healthy. */
  setFaults(plan: FaultPlan | undefined): void;
  /** Replaces the reply of the chat endpoint. */
  setReply(reply: ReplySource): void;
}

/** Options every protocol fake takes. */
export interface FakeServerOptions {
  /** The chat reply; default `Hello from <model>!` in 4-character chunks. */
  readonly reply?: ReplySource;
  readonly faults?: FaultPlan;
  /** Pause between healthy SSE chunks, in ms. Default 0. */
  readonly chunkDelayMs?: number;
  readonly server?: TestServerOptions;
}

/** One endpoint of a fake: its healthy answer, before any fault. */
export interface FakeRoute {
  readonly method: string;
  readonly path: string;
  answer(request: RecordedRequest, reply: ReplySource): FakeAnswer;
}

export interface FakeProtocol {
  readonly routes: readonly FakeRoute[];
  readonly errorBody: ErrorBodyFormat;
  /** The message of a 404 (`status` 404) or 405 (`status` 405) answer. */
  routeMissMessage(status: 404 | 405, request: RecordedRequest): string;
  /** Runs before a matched route; an answer here (e.g. a 401) replaces the route's. */
  guard?(request: RecordedRequest): FakeAnswer | undefined;
}

/**
 * Starts a test server that routes requests to `protocol`'s endpoints and bends their
 * answers by the fault plan. Only matched routes consume a fault, so a stray request to a
 * wrong path does not shift the plan of the requests a test cares about.
 */
export async function startFakeServer(
  protocol: FakeProtocol,
  options: FakeServerOptions = {},
): Promise<FakeServer> {
  let chooseFault = createFaultSchedule(options.faults);
  let reply: ReplySource = options.reply ?? defaultReply;
  const delivery = { chunkDelayMs: options.chunkDelayMs ?? 0, errorBody: protocol.errorBody };

  const missAnswer = (response: ServerResponse, status: 404 | 405, request: RecordedRequest) => {
    const body = protocol.errorBody(status, protocol.routeMissMessage(status, request));
    sendJson(response, status, body);
  };

  const server = await startTestServer(async (request, response) => {
    const routesAtPath = protocol.routes.filter((route) => route.path === request.path);
    if (routesAtPath.length === 0) {
      missAnswer(response, 404, request);
      return;
    }
    const route = routesAtPath.find((candidate) => candidate.method === request.method);
    if (route === undefined) {
      response.setHeader("allow", routesAtPath.map((candidate) => candidate.method).join(", "));
      missAnswer(response, 405, request);
      return;
    }
    const fault = chooseFault(request);
    const answer = protocol.guard?.(request) ?? route.answer(request, reply);
    await deliverAnswer(response, answer, fault, delivery);
  }, options.server);

  return {
    url: server.url,
    port: server.port,
    requests: server.requests,
    openConnections: server.openConnections,
    waitForConnectionsClosed: server.waitForConnectionsClosed,
    nextConnectionClose: server.nextConnectionClose,
    close: server.close,
    setFaults: (plan) => {
      chooseFault = createFaultSchedule(plan);
    },
    setReply: (nextReply) => {
      reply = nextReply;
    },
  };
}
