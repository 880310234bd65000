import { describe, expect, it } from "vitest";
import { secretEchoForms, secretPiecesIn } from "./secret-echoes.js";

const secret = 'sk-kit/Ab+Cd=Ef"Gh/Ij+Kl=Mn';

describe("secretPiecesIn", () => {
  it("finds a piece of every form of a secret, also wrapped in two layers of JSON", () => {
    for (const [form, echoed] of Object.entries(secretEchoForms(secret))) {
      const wrapped = JSON.stringify({ log: JSON.stringify({ message: `x ${echoed} y` }) });
      expect({ form, found: secretPiecesIn(wrapped, secret).length > 0 }).toEqual({
        form,
        found: true,
      });
    }
  });

  it("finds nothing in a text without the secret", () => {
    expect(secretPiecesIn('{"message":"Incorrect API key provided: [redacted]"}', secret)).toEqual(
      [],
    );
  });
});
