import { describe, expect, it } from "vitest";
import { HostAllowlist, hostName } from "./host-allowlist.js";

describe("hostName", () => {
  it("takes the port, the case, the IPv6 brackets and a trailing dot off a Host header", () => {
    expect(hostName("Example.COM:8080")).toBe("example.com");
    expect(hostName("[::1]:1337")).toBe("::1");
    expect(hostName("localhost.")).toBe("localhost");
    expect(hostName("evil.example:80:80")).toBeUndefined();
    expect(hostName("[::1")).toBeUndefined();
    expect(hostName("a b")).toBeUndefined();
  });
});

describe("HostAllowlist", () => {
  it("accepts the name the server listens on, but not when it listens on every interface", () => {
    expect(new HostAllowlist([], "my.box").accepts("my.box:1337")).toBe(true);
    expect(new HostAllowlist([], "0.0.0.0").accepts("0.0.0.0.evil.example")).toBe(false);
    expect(new HostAllowlist([], "::").accepts("evil.example")).toBe(false);
  });

  it("accepts IP addresses, which a page can not rebind, and refuses names that only contain an allowed one", () => {
    const hosts = new HostAllowlist(["registry.internal"], "127.0.0.1");
    expect(hosts.accepts("10.1.2.3:1337")).toBe(true);
    expect(hosts.accepts("[fe80::1]")).toBe(true);
    expect(hosts.accepts("registry.internal")).toBe(true);
    expect(hosts.accepts("registry.internal.evil.example")).toBe(false);
    expect(hosts.accepts("127.0.0.1.nip.io")).toBe(false);
    expect(hosts.accepts(undefined)).toBe(true);
  });

  it("answers a header that comes again as it did the first time, accepted or refused, whatever came between", () => {
    const hosts = new HostAllowlist(["registry.internal"], "127.0.0.1");
    for (let round = 0; round < 3; round++) {
      expect(hosts.accepts("registry.internal:1337")).toBe(true);
      expect(hosts.accepts("evil.example")).toBe(false);
      expect(hosts.accepts("registry.internal:1337")).toBe(true);
      expect(hosts.accepts("localhost:1337")).toBe(true);
      expect(hosts.accepts("registry.internal:1337.evil")).toBe(false);
    }
  });
});
