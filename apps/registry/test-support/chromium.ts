import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Where Debian (and Ubuntu's deb) put Chromium; `CHROMIUM_PATH` comes first. */
function candidatePaths(): string[] {
  return [process.env.CHROMIUM_PATH ?? "", "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(
    (path) => path !== "",
  );
}

/**
 * The system Chromium the browser tests drive. A machine without one fails the test
 * with how to get it, in CI and out: a skipped browser test would pass unseen.
 */
export function chromiumPath(): string {
  const found = candidatePaths().find((path) => existsSync(path));
  if (found === undefined)
    throw new Error(
      `The console's browser tests need Chromium, found at none of ${candidatePaths().join(", ")}. ` +
        "Install Debian's package (`apt-get install -y chromium`; .ci/run does it when it is missing) " +
        "or set CHROMIUM_PATH to a Chromium or Chrome binary.",
    );
  return found;
}

/** A headless Chromium through playwright-core (which downloads no browser of its own). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true });
}
