/*
 * The full-size soak (`pnpm test:long`): soak.test.ts's test at 20,000 requests, where
 * the default run sends 500. SOAK_REQUESTS and SOAK_SEED still override.
 */
process.env.SOAK_REQUESTS ??= "20000";
await import("./soak.test.js");
