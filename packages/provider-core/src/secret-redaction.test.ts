import { describe, expect, it } from "vitest";
import {
  redactSecrets,
  secretsOfHeaders,
  secretsOfHeaderValue,
  secretsOfUrl,
} from "./secret-redaction.js";
import { errorFromPayload, errorFromStatus, toProviderError } from "./status-errors.js";

/** 45 characters, with the characters encoders change: `/`, `+`, `=` and `"`. */
const key = 'sk-test/Ab+Cd=Ef"Gh/Ij+Kl=Mn"Op/Qr+St=Uv0123';

/** Every way an upstream may write `text` back. */
function echoForms(text: string): Record<string, string> {
  const json = JSON.stringify(text).slice(1, -1);
  return {
    raw: text,
    "JSON-escaped": json,
    "JSON-escaped with \\/": json.replace(/\//g, "\\/"),
    "JSON \\u escapes": [...text]
      .map((character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`)
      .join(""),
    "JSON \\u escapes in capitals": [...text]
      .map((character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`)
      .join("")
      .toUpperCase()
      .replace(/\\U/g, "\\u"),
    "JSON escaped twice": JSON.stringify(JSON.stringify(text)).slice(3, -3),
    "URL-encoded": encodeURIComponent(text),
    "URL-encoded twice": encodeURIComponent(encodeURIComponent(text)),
    "form-encoded": new URLSearchParams({ key: text }).toString().slice(4),
    "HTML entities": text.replace(/"/g, "&quot;").replace(/\//g, "&#x2F;").replace(/\+/g, "&#43;"),
    base64: Buffer.from(text).toString("base64"),
    base64url: Buffer.from(text).toString("base64url"),
    "base64 after one byte": Buffer.from(`x${text}`).toString("base64"),
    "base64url after two bytes": Buffer.from(`xy${text}`).toString("base64url"),
    "base64 of a Basic credential": Buffer.from(`user:${text}`).toString("base64"),
    "upper case": text.toUpperCase(),
  };
}

describe("redactSecrets", () => {
  it.each(Object.entries(echoForms(key)))("removes a secret echoed %s", (_form, echoed) => {
    const text = `the key ${echoed} is not valid`;
    const redacted = redactSecrets(text, [key]);
    expect(redacted).toMatch(/^the key .*\[redacted\].* is not valid$/);
    for (const form of Object.values(echoForms(key))) {
      // No run of ten characters of any encoding of the key is left.
      for (let start = 0; start + 10 <= form.length; start += 5) {
        expect(redacted).not.toContain(form.slice(start, start + 10));
      }
    }
  });

  it("removes the start of a secret where a text was cut, and its end where one begins", () => {
    for (const length of [4, 10, 20, 44]) {
      expect(redactSecrets(`bad key ${key.slice(0, length)}`, [key])).toBe("bad key [redacted]");
      expect(redactSecrets(`${key.slice(-length)} was refused`, [key])).toBe(
        "[redacted] was refused",
      );
    }
    const escaped = JSON.stringify(key).slice(1, -1).replace(/\//g, "\\/");
    expect(redactSecrets(`{"message":"bad key ${escaped.slice(0, 30)}`, [key])).toBe(
      '{"message":"bad key [redacted]',
    );
  });

  it("leaves a text without the secret exactly as it was", () => {
    const text = '{"error":{"message":"Bearer token missing","type":"invalid_request_error"}}';
    expect(redactSecrets(text, [key, "0f3c2a9e-1b7d-4c55-9a0e-2d6f8b1c4e77"])).toBe(text);
  });

  it("never treats a scheme word or a value under four characters as a secret", () => {
    expect(redactSecrets("send Bearer and basic and abc", ["Bearer", "basic", "abc"])).toBe(
      "send Bearer and basic and abc",
    );
  });

  it("keeps a JSON body valid where it removes an escaped secret", () => {
    const body = JSON.stringify({ error: { message: `invalid api key ${key}` } });
    const parsed = JSON.parse(redactSecrets(body, [key])) as { error: { message: string } };
    expect(parsed.error.message).toBe("invalid api key [redacted]");
  });
});

describe("secretsOfHeaders", () => {
  it("takes the credential after a scheme word, and nothing from a scheme word alone", () => {
    expect(secretsOfHeaders({ authorization: "Bearer" })).toEqual([]);
    expect(secretsOfHeaders({ Authorization: `Bearer ${key}` })).toEqual([key]);
    expect(secretsOfHeaders({ "content-type": "application/json", "user-agent": "x/1" })).toEqual(
      [],
    );
    expect(secretsOfHeaders({ "x-api-key": key, "x-device-uuid": "0f3c2a9e-1b7d" })).toEqual([
      key,
      "0f3c2a9e-1b7d",
    ]);
  });

  it("takes each cookie's value and a Basic credential's password", () => {
    expect(secretsOfHeaderValue("cookie", "session=abcdef123456; theme=dark")).toEqual([
      "session=abcdef123456; theme=dark",
      "abcdef123456",
    ]);
    const basic = Buffer.from("user:pa55word").toString("base64");
    expect(secretsOfHeaderValue("authorization", `Basic ${basic}`)).toEqual([
      basic,
      "user:pa55word",
      "pa55word",
    ]);
  });

  it("takes the password of a proxy URL", () => {
    expect(secretsOfUrl("http://user:s%2Fcret99@127.0.0.1:8080")).toEqual([
      "s%2Fcret99",
      "s/cret99",
    ]);
    expect(secretsOfUrl("http://127.0.0.1:8080")).toEqual([]);
  });
});

describe("errors made from upstream bytes", () => {
  it.each(Object.entries(echoForms(key)))(
    "keep a key out of a status error when the body echoes it %s",
    (_form, echoed) => {
      for (const body of [
        `{"error":{"message":"Incorrect API key provided: ${echoed}","code":"invalid_api_key"}}`,
        `Incorrect API key provided: ${echoed}`,
        `${"x".repeat(480)} ${echoed}`,
      ]) {
        const error = errorFromStatus({ provider: "Example", status: 401, body, secrets: [key] });
        const everything = `${error.message}\n${error.body}\n${JSON.stringify(error)}`;
        expect(everything).toContain("[redacted]");
        for (const form of Object.values(echoForms(key))) {
          expect(everything).not.toContain(form.slice(0, 8));
          expect(everything).not.toContain(form.slice(-8));
        }
      }
    },
  );

  it("keep a key out of an error the upstream sent inside a 200 answer", () => {
    const error = errorFromPayload("Example", { error: { message: `bad key ${key}` } }, [key]);
    expect(error.message).toBe("Example sent an error in its answer: bad key [redacted]");
    const shapeless = errorFromPayload("Example", { error: { detail: 1, echoed: key } }, [key]);
    expect(shapeless.message).not.toContain("sk-test");
  });

  it("keep a key out of a transport failure that quotes it", () => {
    const error = toProviderError(
      Object.assign(new Error(`socket hang up while sending Bearer ${key}`), {
        code: "ECONNRESET",
      }),
      {
        provider: "Example",
        connectTimeoutMs: 1,
        firstByteTimeoutMs: 1,
        idleTimeoutMs: 1,
        secrets: [key],
      },
    );
    expect(error.message).toBe(
      "Example: connection failed (ECONNRESET: socket hang up while sending Bearer [redacted])",
    );
  });

  it("keep the word Bearer of an upstream's message when the request sent `authorization: Bearer`", () => {
    const error = errorFromStatus({
      provider: "AmigoChat",
      status: 401,
      body: '{"message":"Bearer token missing"}',
      secrets: secretsOfHeaders({ authorization: "Bearer" }),
    });
    expect(error.message).toBe("AmigoChat answered 401: Bearer token missing");
  });
});
