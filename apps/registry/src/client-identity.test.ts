import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { addressGroup, clientIdentity } from "./client-identity.js";

function request(address: string | undefined, headers: Record<string, string> = {}) {
  return { headers, socket: { remoteAddress: address } } as unknown as IncomingMessage;
}

describe("clientIdentity", () => {
  it("names a client by its API key when keys are required, whatever its address", () => {
    const alice = clientIdentity(request("10.0.0.1", { authorization: "Bearer alice-key" }), true);
    expect(clientIdentity(request("10.0.0.2", { authorization: "Bearer alice-key" }), true)).toBe(
      alice,
    );
    expect(clientIdentity(request("10.0.0.1", { "g4f-api-key": "alice-key" }), true)).toBe(alice);
    expect(clientIdentity(request("10.0.0.1", { authorization: "Bearer bob-key" }), true)).not.toBe(
      alice,
    );
  });

  it("names a client by its address when no key is required", () => {
    const first = clientIdentity(request("10.0.0.1", { authorization: "Bearer one" }), false);
    expect(clientIdentity(request("10.0.0.1", { authorization: "Bearer two" }), false)).toBe(first);
    expect(clientIdentity(request("10.0.0.2"), false)).not.toBe(first);
  });

  it("holds a hash, never the key or the address", () => {
    const identity = clientIdentity(
      request("192.0.2.7", { authorization: "Bearer sk-secret-key-123" }),
      true,
    );
    expect(identity).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(identity).not.toContain("secret");
    expect(clientIdentity(request("192.0.2.7"), false)).not.toContain("192");
  });
});

describe("clientIdentity on a connection", () => {
  /** A connection whose address reads are counted: the hash is made once per address read. */
  function connection(address: string) {
    const socket = {
      reads: 0,
      get remoteAddress() {
        socket.reads++;
        return address;
      },
    };
    const on = (headers: Record<string, string> = {}) =>
      ({ headers, socket }) as unknown as IncomingMessage;
    return { socket, on };
  }

  it("names each request of a keep-alive connection as its first, computing the identity once", () => {
    const { socket, on } = connection("10.0.0.9");
    const first = clientIdentity(on(), false);
    expect(clientIdentity(on(), false)).toBe(first);
    expect(clientIdentity(on(), false)).toBe(first);
    expect(socket.reads).toBe(1);
    expect(first).toBe(clientIdentity(request("10.0.0.9"), false));
  });

  it("names a request that presents another key on the same connection by that key", () => {
    const { on } = connection("10.0.0.9");
    const alice = clientIdentity(on({ authorization: "Bearer alice-key" }), true);
    const bob = clientIdentity(on({ authorization: "Bearer bob-key" }), true);
    expect(bob).not.toBe(alice);
    expect(bob).toBe(
      clientIdentity(request("10.0.0.1", { authorization: "Bearer bob-key" }), true),
    );
    expect(clientIdentity(on({ authorization: "Bearer alice-key" }), true)).toBe(alice);
    // Without a key the connection is named by its address, as elsewhere.
    expect(clientIdentity(on(), true)).toBe(clientIdentity(request("10.0.0.9"), false));
  });
});

describe("addressGroup", () => {
  it("keeps an IPv4 address whole, also when it is written IPv4-mapped", () => {
    expect(addressGroup("192.0.2.7")).toBe("192.0.2.7");
    expect(addressGroup("::ffff:192.0.2.7")).toBe("192.0.2.7");
  });

  it("groups IPv6 addresses by their /64, so one host can not pose as many clients", () => {
    expect(addressGroup("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(addressGroup("2001:0db8:0001:0003::1")).toBe("2001:db8:1:3::/64");
    expect(addressGroup("::1")).toBe("0:0:0:0::/64");
    expect(addressGroup("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressGroup("2001:db8::")).toBe("2001:db8:0:0::/64");
  });

  it("names a missing address unknown", () => {
    expect(addressGroup(undefined)).toBe("unknown");
  });
});
