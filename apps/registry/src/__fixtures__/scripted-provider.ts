import { setTimeout as sleep } from "node:timers/promises";
import {
  AbortError,
  type AsyncGeneratorProvider,
  type Chunk,
  type Messages,
  type ModelCapabilities,
  ModelCatalog,
  type Provider,
  type ProviderOptions,
} from "@g4f-ts/provider-core";

/** One call a scripted provider received. */
export interface ScriptedCall {
  model: string;
  messages: Messages;
  options: ProviderOptions;
  signal: AbortSignal | undefined;
}

/** What a scripted provider yields for one call: its chunks, or a step that waits or throws. */
export type ScriptStep = Chunk | { wait: number } | { fail: unknown };

export interface ScriptedProviderOptions {
  id: string;
  label?: string;
  working?: boolean;
  defaultModel?: string;
  chatModels?: string[];
  imageModels?: string[];
  defaultImageModel?: string;
  modelAliases?: Record<string, string>;
  /** What its chat models can do (default: text with the common sampling options). */
  capabilities?: ModelCapabilities;
  /** The steps of each call, by call index; the last entry repeats. Default: "Hello" from the id. */
  script?: ScriptStep[][] | ((call: ScriptedCall, index: number) => ScriptStep[]);
}

export interface ScriptedProvider extends Provider {
  readonly calls: ScriptedCall[];
  /** Calls whose generator ended (done, failed or stopped): the provider released them. */
  readonly finishedCalls: number;
  /** Chunks yielded so far, over all calls. */
  readonly yieldedChunks: number;
}

/**
 * An in-memory provider for registry tests: it serves the given models and
 * answers each call with a script of chunks, waits (which honour the signal, as a
 * real provider's socket would) and failures.
 */
export function scriptedProvider(options: ScriptedProviderOptions): ScriptedProvider {
  const chatModels = options.chatModels ?? ["test-model"];
  const catalog = new ModelCatalog({
    label: options.label ?? options.id,
    defaultModel: options.defaultModel ?? chatModels[0] ?? "test-model",
    chatModels,
    imageModels: options.imageModels ?? [],
    ...(options.defaultImageModel === undefined
      ? {}
      : { defaultImageModel: options.defaultImageModel }),
    modelAliases: options.modelAliases ?? {},
    ...(options.capabilities === undefined ? {} : { capabilities: options.capabilities }),
  });
  const calls: ScriptedCall[] = [];
  let finishedCalls = 0;
  let yieldedChunks = 0;
  const stepsFor = (call: ScriptedCall, index: number): ScriptStep[] => {
    const { script } = options;
    if (script === undefined) return [`Hello from ${options.id}`];
    if (typeof script === "function") return script(call, index);
    return script[Math.min(index, script.length - 1)] ?? [];
  };
  async function* answer(call: ScriptedCall, index: number): AsyncGenerator<Chunk> {
    try {
      for (const step of stepsFor(call, index)) {
        if (call.signal?.aborted) throw new AbortError({ provider: options.id });
        if (typeof step === "object" && step !== null && "wait" in step) {
          try {
            await sleep(step.wait, undefined, { signal: call.signal });
          } catch {
            throw new AbortError({ provider: options.id });
          }
        } else if (typeof step === "object" && step !== null && "fail" in step) {
          throw step.fail;
        } else {
          yieldedChunks++;
          yield step as Chunk;
        }
      }
    } finally {
      finishedCalls++;
    }
  }
  const provider: AsyncGeneratorProvider & ScriptedProvider = {
    id: options.id,
    label: options.label ?? options.id,
    url: `http://127.0.0.1/${options.id}`,
    working: options.working ?? true,
    supportsStream: true,
    supportsSystemMessage: true,
    supportsMessageHistory: true,
    needsAuth: false,
    defaultModel: catalog.defaultModel,
    models: catalog.models,
    chatModels: catalog.chatModels,
    imageModels: catalog.imageModels,
    defaultImageModel: catalog.defaultImageModel,
    modelAliases: catalog.modelAliases,
    getModels: () => catalog.getModels(),
    getModel: (name: string | undefined) => catalog.getModel(name),
    capabilities: (model: string) => catalog.capabilities(model),
    calls,
    get finishedCalls() {
      return finishedCalls;
    },
    get yieldedChunks() {
      return yieldedChunks;
    },
    createAsyncGenerator(model, messages, callOptions = {}) {
      const call: ScriptedCall = {
        model,
        messages,
        options: callOptions,
        signal: callOptions.signal,
      };
      calls.push(call);
      return answer(call, calls.length - 1);
    },
  };
  return provider;
}
