import { hash, randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { presentedKey } from "./api-keys.js";

/**
 * A secret of this process only: identities are salted hashes, so neither an API
 * key nor an address is held in memory, and an identity seen in a heap dump or a
 * log can not be matched against a list of keys offline. (A salted one-shot hash
 * rather than an HMAC: nothing verifies it, and it is computed on every request.)
 */
const identitySalt = randomBytes(32).toString("base64url");

function hashed(source: string): string {
  return hash("sha256", `${identitySalt}\u0000${source}`, "base64url").slice(0, 22);
}

/** A connection's identity, with the key it was computed for (undefined: by address). */
interface ConnectionIdentity {
  readonly key: string | undefined;
  readonly identity: string;
}

/**
 * The identity last computed on each connection: a keep-alive connection sends
 * request after request with the same key from the same address, and a hash per
 * request was 1.5% of the CPU of a JSON answer. An entry lives as long as its
 * connection (which holds the same key in its request headers anyway), and a
 * request presenting another key computes its own.
 */
const connectionIdentities = new WeakMap<object, ConnectionIdentity>();

/**
 * Who sent a request, as the cooldown's fairness rule counts clients: the API key it
 * presented when the server requires keys (one key, one client, whatever its
 * addresses), else its address (an IPv6 address by its /64, see `addressGroup`).
 * The result is a keyed hash, stable for the life of the process.
 */
export function clientIdentity(request: IncomingMessage, keysRequired: boolean): string {
  const key = keysRequired ? presentedKey(request.headers) : undefined;
  const socket: IncomingMessage["socket"] | null | undefined = request.socket;
  const known = socket == null ? undefined : connectionIdentities.get(socket);
  if (known !== undefined && known.key === key) return known.identity;
  const identity =
    key !== undefined
      ? hashed(`key\u0000${key}`)
      : hashed(`address\u0000${addressGroup(socket?.remoteAddress)}`);
  if (socket != null) connectionIdentities.set(socket, { key, identity });
  return identity;
}

/**
 * The part of a client address that names one client: an IPv4 address (also when
 * written IPv4-mapped, `::ffff:192.0.2.1`) whole, an IPv6 address by its first 64
 * bits, because one host is commonly given a whole /64 and could otherwise pose as
 * any number of clients. A missing address (the socket is gone) is `unknown`.
 */
export function addressGroup(address: string | undefined): string {
  if (address === undefined || address === "") return "unknown";
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!address.includes(":")) return address;
  const withoutZone = address.split("%")[0] ?? address;
  const [head = "", tail] = withoutZone.toLowerCase().split("::");
  const headParts = head === "" ? [] : head.split(":");
  const tailParts = tail === undefined || tail === "" ? [] : tail.split(":");
  // An IPv4 tail (`::1.2.3.4`) stands for two groups.
  const groupsOf = (parts: string[]) =>
    parts.reduce((count, part) => count + (part.includes(".") ? 2 : 1), 0);
  const missing = Math.max(0, 8 - groupsOf(headParts) - groupsOf(tailParts));
  const groups = [...headParts, ...Array<string>(missing).fill("0"), ...tailParts];
  const prefix = groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16));
  return `${prefix.join(":")}::/64`;
}
