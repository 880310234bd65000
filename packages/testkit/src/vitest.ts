// The vitest-only part of the testkit, apart so that the main entry never loads vitest
// (an optional peer): the fakes then work under any test runner and outside tests.
export type { ProviderConformanceOptions } from "./provider-conformance.js";
export { describeProviderConformance } from "./provider-conformance.js";
