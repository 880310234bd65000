import {
  AbortError,
  type Chunk,
  NativeResponseText,
  type Provider,
  type ResponsesPassthroughProvider,
  ResponseTooLargeError,
  supportsResponsesPassthrough,
} from "@g4f-ts/provider-core";
import { answerLimitName, defaultAnswerLimitBytes } from "./answer-collector.js";
import { clientIdentity } from "./client-identity.js";
import { writeEventStreamHead } from "./event-stream-head.js";
import { type CommittedAttempt, type FallbackRun, gatherWholeAnswer } from "./fallback.js";
import { sendJson } from "./http-responses.js";
import type { Candidate } from "./model-router.js";
import type { Registry } from "./registry.js";
import type { RequestContext } from "./request-context.js";
import { SseWriter } from "./sse-writer.js";

/*
 * `POST /v1/responses` forwarded unchanged to upstreams that serve the Responses
 * API themselves (an OpenAI-compatible provider with `responsesApi: "native"`),
 * through the same fallback engine as everything else: a failure before the first
 * byte of an answer moves on to the next candidate; after it, a stream ends with an
 * `error` event.
 */

type PassthroughProvider = Provider & ResponsesPassthroughProvider;

function forwards(candidate: Candidate): boolean {
  const { provider } = candidate.entry;
  return supportsResponsesPassthrough(provider) && provider.forwardsResponses(candidate.model);
}

/**
 * The candidates of a request when every one of them forwards Responses requests
 * natively, else undefined (the request is then translated for all of them). A
 * model or pin that does not resolve is left to the translating path, which
 * answers it with the right error after validating the request.
 */
export function nativeCandidates(
  registry: Registry,
  body: Record<string, unknown>,
): readonly Candidate[] | undefined {
  const model = typeof body.model === "string" ? body.model : undefined;
  const pin = typeof body.provider === "string" ? body.provider : undefined;
  let candidates: readonly Candidate[];
  try {
    candidates = registry.resolve(model, pin, "chat");
  } catch {
    return undefined;
  }
  return candidates.length > 0 && candidates.every(forwards) ? candidates : undefined;
}

/** The candidate as the engine runs it: one call forwards the body, with the upstream's model id. */
function forwardingAttempt(candidate: Candidate, body: Record<string, unknown>): Candidate {
  const provider = candidate.entry.provider as PassthroughProvider;
  const { provider: _pin, ...forwarded } = body;
  const attemptProvider = {
    id: provider.id,
    label: provider.label,
    createAsyncGenerator(
      model: string,
      _messages: unknown,
      options: { signal?: AbortSignal } = {},
    ): AsyncIterable<Chunk> {
      return provider.forwardResponse(
        { ...forwarded, model },
        options.signal === undefined ? {} : { signal: options.signal },
      );
    },
  } as unknown as Provider;
  return { entry: { ...candidate.entry, provider: attemptProvider }, model: candidate.model };
}

/** Forward a Responses request to native candidates and pass their answer on unchanged. */
export async function answerNatively(
  context: RequestContext,
  body: Record<string, unknown>,
  candidates: readonly Candidate[],
): Promise<void> {
  const { registry } = context;
  const run = registry.run(
    candidates.map((candidate) => forwardingAttempt(candidate, body)),
    {
      requestedModel: typeof body.model === "string" ? body.model : "",
      messages: [],
      options: {},
      signal: context.signal,
      logger: context.logger,
      requestId: context.requestId,
      client: clientIdentity(context.request, registry.config.server.apiKeys.length > 0),
    },
  );
  if (body.stream === true) await streamNatively(context, run);
  else await sendNatively(context, run);
}

function textOf(chunk: Chunk): string {
  return NativeResponseText.isInstance(chunk) ? chunk.text : "";
}

async function sendNatively(context: RequestContext, run: FallbackRun): Promise<void> {
  const limitBytes = context.registry.config.server.answerLimitBytes ?? defaultAnswerLimitBytes;
  try {
    const { candidate, answer } = await gatherWholeAnswer(run, (attempted) => {
      const pieces: string[] = [];
      let bytes = 0;
      return {
        add: (chunk) => {
          const text = textOf(chunk);
          bytes += Buffer.byteLength(text);
          if (bytes > limitBytes)
            throw new ResponseTooLargeError({
              provider: attempted.entry.provider.label,
              limit: limitBytes,
              limitName: answerLimitName,
              message: `The answer of ${attempted.entry.id} passed the limit of ${limitBytes} bytes (${answerLimitName}) for an answer sent as one JSON body; ask with "stream": true to receive longer answers`,
            });
          pieces.push(text);
        },
        finish: () => pieces.join(""),
      };
    });
    const { id } = candidate.entry;
    context.provider = id;
    sendJson(context.response, 200, answer, { "x-g4f-provider": id });
  } finally {
    context.failedAttempts = run.failures.length;
  }
}

// The highest sequence number an upstream's events carried, to number the error event after them.
const sequencePattern = /"sequence_number":\s*(\d+)/g;

function lastSequence(text: string, previous: number): number {
  let last = previous;
  for (const match of text.matchAll(sequencePattern)) last = Math.max(last, Number(match[1]));
  return last;
}

/**
 * The upstream's events passed on as they came, as a chat stream writes its own
 * (see `streamAnswer`): the first at once, the first content's bookkeeping after
 * them, a batch per network read gathered into one write a turn, and the end
 * before the success's bookkeeping.
 */
async function streamNatively(context: RequestContext, run: FallbackRun): Promise<void> {
  let committed: CommittedAttempt;
  try {
    committed = await run.commit(true);
  } finally {
    context.failedAttempts = run.failures.length;
  }
  const { candidate, leading } = committed;
  // The upstream's own content type, when it named one (its charset, say).
  const contentType = leading.find(NativeResponseText.isInstance)?.contentType;
  writeEventStreamHead(context, run, committed, {
    ...(contentType === undefined ? {} : { "content-type": contentType }),
    "x-g4f-provider": candidate.entry.id,
  });
  const writer = new SseWriter(context.response);
  let sequence = -1;
  try {
    let blocked: Promise<void> | undefined;
    try {
      let first = "";
      // With the first content, the rest of the network read that carried it.
      for (const chunk of [...leading, ...committed.attempt.takeBuffered()]) {
        const text = textOf(chunk);
        sequence = lastSequence(text, sequence);
        first += text;
      }
      blocked = writer.writeNow(first);
    } finally {
      run.releaseFirstContent();
    }
    if (blocked !== undefined) await blocked;
    for (;;) {
      const result = await committed.attempt.nextBatch();
      if (result.done) break;
      for (const chunk of result.value) {
        const text = textOf(chunk);
        if (text === "") continue;
        sequence = lastSequence(text, sequence);
        blocked = writer.write(text);
      }
      if (blocked !== undefined) await blocked;
    }
  } catch (error) {
    if (run.clientGone() && !context.endedByShutdown) {
      run.cancel(committed);
      throw new AbortError({ message: "The client closed the request" });
    }
    let code = "server_shutting_down";
    let message = "The server is shutting down; the answer is incomplete";
    if (context.endedByShutdown) run.cancel(committed);
    else {
      const report = await run.failAfterCommit(committed, error, false);
      context.failedAttempts = run.failures.length;
      code = "server_error";
      message = `${candidate.entry.id} failed after the answer had started, so it was not retried elsewhere: ${report.message}`;
    }
    const event = { type: "error", code, message, param: null, sequence_number: sequence + 1 };
    // A blank line first: the upstream's last event may have been cut in the middle.
    writer.end(`\n\nevent: error\ndata: ${JSON.stringify(event)}\n\n`);
    return;
  }
  run.succeed(committed, () => writer.end(""));
}
