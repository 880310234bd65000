// The folders of the packages this repository publishes, in dependency order (a
// package comes after the packages it depends on), and the example provider that
// the release test publishes as a third party would.
export const publishablePackages = [
  "packages/provider-core",
  "packages/testkit",
  "packages/provider-amigochat",
  "packages/provider-openai-compatible",
  "apps/registry",
];

export const externalExamplePackages = ["examples/provider-echo"];
