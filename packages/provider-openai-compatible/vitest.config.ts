import { splitSuiteConfig } from "../../vitest.shared.js";

export default splitSuiteConfig({ testTimeout: 30_000 });
