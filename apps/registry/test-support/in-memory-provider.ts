import { type AsyncGeneratorProvider, type AsyncResult, ModelCatalog } from "@g4f-ts/provider-core";

/**
 * The descriptive side of a test's in-memory provider: one chat model, streaming,
 * system messages and history supported, no auth, no upstream. A test subclass
 * says only how it answers (`createAsyncGenerator`) and what else it needs.
 *
 * @example
 * class HelloProvider extends InMemoryProvider {
 *   constructor() { super("hello", "hello-1"); }
 *   async *createAsyncGenerator(): AsyncResult { yield "Hello"; }
 * }
 */
export abstract class InMemoryProvider extends ModelCatalog implements AsyncGeneratorProvider {
  readonly id: string;
  readonly label: string;
  readonly url = "http://127.0.0.1";
  readonly working = true;
  readonly supportsStream = true;
  readonly supportsSystemMessage = true;
  readonly supportsMessageHistory = true;
  readonly needsAuth = false;

  constructor(name: string, model: string) {
    super({ label: name, defaultModel: model, chatModels: [model] });
    this.id = name;
    this.label = name;
  }

  abstract createAsyncGenerator(
    ...args: Parameters<AsyncGeneratorProvider["createAsyncGenerator"]>
  ): AsyncResult;
}
