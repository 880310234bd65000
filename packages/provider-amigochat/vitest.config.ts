import { splitSuiteConfig } from "../../vitest.shared.js";

export default splitSuiteConfig({ roots: ["src", "examples"], testTimeout: 30_000 });
