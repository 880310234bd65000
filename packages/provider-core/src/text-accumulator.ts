/**
 * A whole text gathered from many pieces, with a cap. Appending with `+=` makes a
 * rope node of about 32 bytes per piece, so an answer of one-character pieces
 * costs thirty times its size; this joins the pieces every few hundred instead,
 * keeping the cost close to the text's own. `append` returns false, and keeps
 * nothing more, once the text would pass `maxCharacters`.
 *
 * @example
 * const text = new TextAccumulator(32 * 1024 * 1024);
 * for await (const piece of pieces) if (!text.append(piece)) throw new Error("too long");
 * console.log(text.toString());
 */
export class TextAccumulator {
  /** Characters appended (those refused past the cap not counted). */
  length = 0;
  readonly maxCharacters: number;
  readonly #blocks: string[] = [];
  readonly #pieces: string[] = [];

  constructor(maxCharacters = Number.POSITIVE_INFINITY) {
    this.maxCharacters = maxCharacters;
  }

  /** Add a piece; false (and the piece dropped) when it would pass the cap. */
  append(piece: string): boolean {
    if (piece === "") return true;
    if (this.length + piece.length > this.maxCharacters) return false;
    this.length += piece.length;
    this.#pieces.push(piece);
    if (this.#pieces.length >= piecesPerBlock) this.#flush();
    return true;
  }

  toString(): string {
    this.#flush();
    if (this.#blocks.length > 1) {
      const whole = this.#blocks.join("");
      this.#blocks.length = 0;
      this.#blocks.push(whole);
    }
    return this.#blocks[0] ?? "";
  }

  #flush(): void {
    const pieces = this.#pieces;
    if (pieces.length === 0) return;
    this.#blocks.push(pieces.length === 1 ? (pieces[0] as string) : pieces.join(""));
    pieces.length = 0;
  }
}

const piecesPerBlock = 256;
