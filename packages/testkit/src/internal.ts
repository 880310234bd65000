// Internal: the fakes' fixed values and how they cut a reply into chunks, for the
// workspace's own tests. Published as "@g4f-ts/testkit/internal"; unstable: any release
// may change or remove a name here. Use the root export ("@g4f-ts/testkit") instead.
export { FAKE_COMPLETION_ID, FAKE_CREATED } from "./chat-completion.js";
export { splitReply } from "./reply-text.js";
