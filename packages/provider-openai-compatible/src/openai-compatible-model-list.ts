import {
  AbortError,
  type HttpTimeouts,
  ModelCatalog,
  ModelNotSupportedError,
  ProviderError,
  readJson,
  sendRequest,
} from "@g4f-ts/provider-core";
import type { OpenAICompatibleSettings } from "./openai-compatible-options.js";
import { openAICompatibleModelListSchema } from "./openai-compatible-wire.js";

// A model list is small: waiting minutes for one helps nobody.
const modelListTimeouts: Partial<HttpTimeouts> = {
  firstByteMs: 30_000,
  idleMs: 30_000,
  totalMs: 30_000,
};

/**
 * What an OpenAI-compatible instance knows of its models: the fixed list of its
 * options, or the list of `GET {baseUrl}/models`, fetched on demand and kept for
 * `modelsTtlMs`. Reads are synchronous and give what is known now.
 */
export class OpenAICompatibleModelList {
  #catalog: ModelCatalog;
  /** True once a list is known: the fixed one, or a fetched one that is not empty. */
  #listed: boolean;
  #fetchedAt: number | undefined;
  #pendingFetch: ModelListFetch | undefined;
  readonly #changeListeners = new Set<() => void>();

  constructor(
    readonly settings: OpenAICompatibleSettings,
    readonly endpoint: string,
  ) {
    this.#catalog = this.#catalogOf(settings.models ?? []);
    this.#listed = settings.models !== undefined;
  }

  get catalog(): ModelCatalog {
    return this.#catalog;
  }

  /** See `OpenAICompatible.onModelsChange`. */
  onChange(listener: () => void): () => void {
    // A listener of its own, so that one added twice is removed once each.
    const call = (): void => listener();
    this.#changeListeners.add(call);
    return () => {
      this.#changeListeners.delete(call);
    };
  }

  /** See `OpenAICompatible.getModel`. */
  getModel(name: string | undefined): string {
    if (this.#listed) return this.#catalog.getModel(name);
    const { label } = this.settings;
    if (name === undefined || name === "") {
      if (this.#catalog.defaultModel !== "") return this.#catalog.defaultModel;
      throw new ModelNotSupportedError({
        provider: label,
        model: "",
        message: `${label} has no default model yet: set the defaultModel option, or call refreshModels() to fetch the list from ${this.endpoint}`,
      });
    }
    const aliases = this.#catalog.modelAliases;
    return Object.hasOwn(aliases, name) ? (aliases[name] as string) : name;
  }

  /** See `OpenAICompatible.refreshModels`. */
  async refresh(signal?: AbortSignal): Promise<readonly string[]> {
    const { label } = this.settings;
    if (this.settings.models !== undefined) return this.#catalog.models;
    if (signal?.aborted) throw new AbortError({ provider: label, cause: signal.reason });
    let fetch = this.#pendingFetch;
    if (fetch === undefined) {
      const controller = new AbortController();
      const started: ModelListFetch = {
        controller,
        waiters: 0,
        result: this.#fetch(controller.signal).finally(() => {
          if (this.#pendingFetch === started) this.#pendingFetch = undefined;
        }),
      };
      // Every waiter handles the outcome; this keeps an abandoned fetch quiet.
      started.result.catch(() => undefined);
      this.#pendingFetch = fetch = started;
    }
    return this.#waitFor(fetch, signal);
  }

  // One caller's wait: the last caller to give up aborts the request.
  #waitFor(fetch: ModelListFetch, signal: AbortSignal | undefined): Promise<readonly string[]> {
    fetch.waiters++;
    if (signal === undefined) return fetch.result;
    const { label } = this.settings;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        reject(new AbortError({ provider: label, cause: signal.reason }));
        fetch.waiters--;
        if (fetch.waiters > 0) return;
        if (this.#pendingFetch === fetch) this.#pendingFetch = undefined;
        fetch.controller.abort(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      fetch.result
        .then(resolve, reject)
        .finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  /** True when a call needs no fetch of the list first: a fixed list, or one fetched within its ttl. */
  isFresh(): boolean {
    const { settings } = this;
    if (settings.models !== undefined) return true;
    return this.#fetchedAt !== undefined && Date.now() - this.#fetchedAt < settings.modelsTtlMs;
  }

  // A call waits for a stale list at most until its own deadline, and never fails
  // because of it: the list is a routing aid, the chat endpoint has the last word.
  async ensureFresh(signal: AbortSignal | undefined, deadline: number): Promise<void> {
    const { settings } = this;
    if (this.isFresh()) return;
    const waitLimit = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    try {
      await this.refresh(signal === undefined ? waitLimit : AbortSignal.any([signal, waitLimit]));
    } catch (error) {
      if (signal?.aborted) {
        throw new AbortError({ provider: settings.label, cause: signal.reason });
      }
      // A failed fetch keeps the previous list; anything but a ProviderError is a bug.
      if (!ProviderError.isInstance(error)) throw error;
    }
  }

  async #fetch(signal: AbortSignal): Promise<readonly string[]> {
    const { settings } = this;
    const response = await sendRequest({
      provider: settings.label,
      url: this.endpoint,
      method: "GET",
      signal,
      headers: settings.headers,
      secrets: settings.secrets,
      proxy: settings.proxy,
      timeouts: { ...modelListTimeouts, ...settings.timeouts },
    });
    const list = await readJson(
      response,
      openAICompatibleModelListSchema,
      settings.label,
      settings.secrets,
    );
    const ids = [...new Set(list.data.map((entry) => entry.id))];
    this.#fetchedAt = Date.now();
    // An empty list tells nothing about what the upstream serves (llama.cpp's
    // server answers any name): names keep passing through.
    if (ids.length > 0) {
      this.#catalog = this.#catalogOf(ids);
      this.#listed = true;
      for (const listener of this.#changeListeners) listener();
    }
    return this.#catalog.models;
  }

  #catalogOf(list: readonly string[]): ModelCatalog {
    const { imageModels, defaultModel, modelAliases, label } = this.settings;
    const images = new Set(imageModels);
    const chatModels = list.filter((model) => !images.has(model));
    // A configured default is served whatever a fetched list says.
    if (
      defaultModel !== undefined &&
      !images.has(defaultModel) &&
      !chatModels.includes(defaultModel)
    ) {
      chatModels.unshift(defaultModel);
    }
    return new ModelCatalog({
      label,
      defaultModel: defaultModel ?? chatModels[0] ?? imageModels[0] ?? "",
      chatModels,
      imageModels,
      modelAliases,
    });
  }
}

/** The model-list request in flight, shared by every caller waiting for it. */
interface ModelListFetch {
  readonly controller: AbortController;
  /** Callers still waiting; one without a signal waits to the end. */
  waiters: number;
  readonly result: Promise<readonly string[]>;
}
