import { configDefaults, defineConfig } from "vitest/config";

// Two projects: "default" (`pnpm test`) leaves out the `*.long.test.ts` files (soak,
// full-size fuzz, anything over ~15 s), which "long" (`pnpm test:long`) runs alone.
// A file named on the command line (`npx vitest run src/x.test.ts`) runs in its project.
export default defineConfig({
  test: {
    // A guard against a hang, sized for a starved machine; no test's claim rests on it.
    testTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: "default",
          include: ["src/**/*.test.ts"],
          exclude: [...configDefaults.exclude, "**/*.long.test.ts"],
        },
      },
      {
        extends: true,
        // Long files size their own work; this only guards against a hang.
        test: { name: "long", include: ["src/**/*.long.test.ts"], testTimeout: 900_000 },
      },
    ],
  },
});
