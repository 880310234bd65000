/*
 * The full-size fuzz (`pnpm test:long`): fuzz.test.ts's properties at 400 runs each,
 * where the default run makes 20. FUZZ_RUNS and FUZZ_SEED still override.
 */
process.env.FUZZ_RUNS ??= "400";
await import("./fuzz.test.js");
