import type { ToolCall } from "./messages.js";
import { ToolCallDelta, ToolCalls } from "./response-chunks.js";

interface PendingCall {
  id: string;
  name: string;
  arguments: string[];
}

/**
 * Joins streamed tool-call pieces (`ToolCallDelta`) by their index into whole
 * calls, as a client of OpenAI's stream does; whole calls (`ToolCalls`) are taken
 * as they come. The calls come out in the order of their indexes.
 *
 * @example
 * const calls = new ToolCallAssembler();
 * for await (const chunk of provider.createAsyncGenerator(model, messages, { tools })) calls.add(chunk);
 * calls.toolCalls(); // [{ id, type: "function", function: { name, arguments } }]
 */
export class ToolCallAssembler {
  readonly #pending = new Map<number, PendingCall>();
  #characters = 0;

  /** Take a chunk; true when it was a tool-call chunk. */
  add(chunk: unknown): boolean {
    if (ToolCallDelta.isInstance(chunk)) {
      let call = this.#pending.get(chunk.index);
      if (call === undefined) {
        call = { id: "", name: "", arguments: [] };
        this.#pending.set(chunk.index, call);
      }
      if (chunk.id !== undefined) call.id = chunk.id;
      if (chunk.name !== undefined) call.name += chunk.name;
      if (chunk.arguments !== "") call.arguments.push(chunk.arguments);
      this.#characters += chunk.arguments.length + (chunk.name?.length ?? 0);
      return true;
    }
    if (ToolCalls.isInstance(chunk)) {
      let index = this.#pending.size === 0 ? 0 : Math.max(...this.#pending.keys()) + 1;
      for (const call of chunk.calls) {
        this.#pending.set(index++, {
          id: call.id,
          name: call.function.name,
          arguments: [call.function.arguments],
        });
        this.#characters += call.function.arguments.length + call.function.name.length;
      }
      return true;
    }
    return false;
  }

  /** Characters of names and arguments taken so far. */
  get characters(): number {
    return this.#characters;
  }

  /** How many calls were started. */
  get size(): number {
    return this.#pending.size;
  }

  /** The calls so far, whole, in index order. */
  toolCalls(): ToolCall[] {
    return [...this.#pending.entries()]
      .sort(([left], [right]) => left - right)
      .map(([, call]) => ({
        id: call.id,
        type: "function",
        function: { name: call.name, arguments: call.arguments.join("") },
      }));
  }
}
