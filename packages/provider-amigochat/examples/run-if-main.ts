import { pathToFileURL } from "node:url";

/**
 * Run an example's `main` when its file is the program itself (`npx tsx
 * examples/basic-chat.ts`), and not when a test imports it.
 */
export function runIfMain(moduleUrl: string, main: () => Promise<unknown>): void {
  const program = process.argv[1];
  if (program === undefined || moduleUrl !== pathToFileURL(program).href) return;
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
    process.exitCode = 1;
  });
}

/** Where an example prints: standard output unless a test collects it. */
export type Print = (text: string) => void;

export const printToStdout: Print = (text) => {
  process.stdout.write(text);
};
