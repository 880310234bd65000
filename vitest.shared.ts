import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

/** What differs between the packages' test setups. */
export interface SplitSuiteOptions {
  /** Folders whose `*.test.ts` files are tests (default `["src"]`). */
  roots?: string[];
  /** A guard against a hang, sized for a starved machine; no test's claim rests on it. */
  testTimeout: number;
}

/**
 * Every package's vitest config: two projects. "default" (`pnpm test`) leaves out the
 * `*.long.test.ts` files (soak, full-size fuzz, anything over ~15 s), which "long"
 * (`pnpm test:long`) runs alone. A file named on the command line
 * (`npx vitest run src/x.test.ts`) runs in its project.
 */
export function splitSuiteConfig({ roots = ["src"], testTimeout }: SplitSuiteOptions) {
  return defineConfig({
    test: {
      testTimeout,
      projects: [
        {
          extends: true,
          test: {
            name: "default",
            // Vitest's default leaves a core free (one worker on a 2-core machine);
            // these tests mostly wait on loopback sockets, so two files at once
            // halve the wall time there without changing any test's claim.
            maxWorkers: Math.max(2, availableParallelism()),
            include: roots.map((root) => `${root}/**/*.test.ts`),
            exclude: [...configDefaults.exclude, "**/*.long.test.ts"],
          },
        },
        {
          extends: true,
          // Long files size their own work; this only guards against a hang.
          test: {
            name: "long",
            // One file at a time: soak and firehose runs measure memory and time.
            maxWorkers: 1,
            include: roots.map((root) => `${root}/**/*.long.test.ts`),
            testTimeout: 900_000,
          },
        },
      ],
    },
  });
}
