import { isIP } from "node:net";

/** Names every machine gives its own loopback interface. */
const loopbackNames = ["localhost", "127.0.0.1", "::1"];

/** Listening addresses that mean "every interface": no name a client would use. */
const wildcardAddresses = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * The name of a `Host` header: without its port, lower-cased, without the brackets
 * of an IPv6 address or a trailing dot. Undefined when it is no host at all.
 */
export function hostName(header: string): string | undefined {
  let name = header.trim().toLowerCase();
  if (name.startsWith("[")) {
    const end = name.indexOf("]");
    if (end === -1) return undefined;
    const rest = name.slice(end + 1);
    if (rest !== "" && !/^:\d{1,5}$/.test(rest)) return undefined;
    return name.slice(1, end);
  }
  const colon = name.indexOf(":");
  if (colon !== -1) {
    if (!/^\d{1,5}$/.test(name.slice(colon + 1))) return undefined;
    name = name.slice(0, colon);
  }
  if (name.endsWith(".")) name = name.slice(0, -1);
  return /^[a-z0-9._-]+$/.test(name) ? name : undefined;
}

/**
 * Which `Host` headers the server answers to: its defence against DNS rebinding,
 * where a web page on another origin points its own name at 127.0.0.1 and so
 * reaches a loopback server with the browser's same-origin blessing (the attack of
 * Ollama's CVE-2024-28224). Accepted: the loopback names, any IP address (a page
 * can only reach an address literal from its own origin, so there is nothing to
 * rebind), the configured listening host, and the configured names; `"*"` accepts
 * every host. A request without `Host` (HTTP/1.0) comes from no browser and passes.
 */
export class HostAllowlist {
  readonly #any: boolean;
  readonly #names: Set<string>;
  /**
   * The last header accepted: clients send the same `Host` on every request, and
   * the answer for a header never changes, so the parse is skipped for it.
   */
  #lastAccepted: string | undefined;

  constructor(configured: readonly string[], listeningHost: string) {
    this.#any = configured.includes("*");
    const names = [...loopbackNames, ...configured];
    if (!wildcardAddresses.has(listeningHost)) names.push(listeningHost);
    this.#names = new Set(
      names.flatMap((name) => {
        const parsed = hostName(name);
        return parsed === undefined ? [] : [parsed];
      }),
    );
  }

  accepts(header: string | undefined): boolean {
    if (this.#any || header === undefined || header === this.#lastAccepted) return true;
    const name = hostName(header);
    if (name === undefined) return false;
    const accepted = this.#names.has(name) || isIP(name) !== 0;
    if (accepted) this.#lastAccepted = header;
    return accepted;
  }
}
