import type OpenAI from "openai";
import type { AttemptReport } from "../http-errors.js";
import type { ProviderDescription } from "../registry.js";

/** OpenAI's error shape, as the registry answers it. */
export interface ErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
    attempts?: AttemptReport[];
  };
}

/** A chat completion with the registry's `provider` field. */
export type ChatBody = OpenAI.ChatCompletion & { provider: string };

/** A chat completion or an error: what a test reads back from `/v1/chat/completions`. */
export type ChatOrErrorBody = ChatBody & ErrorBody;

export interface ModelBody {
  id: string;
  object: string;
  created: number;
  owned_by: string;
  providers: string[];
  type: "chat" | "image";
}

export interface ListBody<T> {
  object: string;
  data: T[];
}

export type ModelsBody = ListBody<ModelBody>;
export type ProvidersBody = ListBody<ProviderDescription>;

/** The JSON body of a response, typed as the test expects it. */
export async function readJson<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
