import { startAmigoChatFake } from "@g4f-ts/testkit";
import { describeProviderConformance } from "@g4f-ts/testkit/vitest";
import { AmigoChat } from "./amigochat-provider.js";

describeProviderConformance({
  name: "AmigoChat",
  startUpstream: () => startAmigoChatFake(),
  createProvider: (baseUrl) => new AmigoChat({ baseUrl, retry: { maxAttempts: 1 } }),
  imageModel: "flux-realism",
});
