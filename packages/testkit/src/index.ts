// The documented API (see README.md); "./vitest" holds the conformance suite, and
// ./internal.ts ("@g4f-ts/testkit/internal", not covered by semver) the fakes' fixed values.
export type { AmigoChatFake, AmigoChatFakeOptions } from "./amigochat-fake.js";
export { startAmigoChatFake } from "./amigochat-fake.js";
export { closedPortUrl } from "./closed-port.js";
export type { FakeServer, FakeServerOptions } from "./fake-server.js";
export type {
  CutAfterFault,
  DelayFirstChunkFault,
  DelayHeadersFault,
  DropFault,
  EmptyFault,
  ErrorInStreamFault,
  Fault,
  FaultKind,
  FaultPlan,
  HtmlBlockFault,
  MalformedSseFault,
  NeverEndFault,
  NotJsonFault,
  SlowDripFault,
  StatusFault,
  StreamErrorBody,
} from "./faults.js";
export type { OpenAICompatibleFake, OpenAICompatibleFakeOptions } from "./openai-fake.js";
export { startOpenAICompatibleFake } from "./openai-fake.js";
export type { ReplyFunction, ReplySource } from "./reply-text.js";
export type { SendSseOptions } from "./responses.js";
export { destroySocket, sendJson, sendSse, sendText } from "./responses.js";
export { secretEchoForms, secretPiecesIn } from "./secret-echoes.js";
export { parseSseData } from "./sse-data.js";
export type {
  RecordedRequest,
  TestServer,
  TestServerHandler,
  TestServerHandlerContext,
  TestServerOptions,
} from "./test-server.js";
export { startTestServer } from "./test-server.js";
