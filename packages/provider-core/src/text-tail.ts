/**
 * The end of a long text, in bounded memory: `length` counts every character
 * appended, `text()` returns the last `limit` of them. A stream keeps this rather
 * than its whole text, so that an answer of any length costs the same few
 * kilobytes; the tail is what an error message about a cut stream needs.
 *
 * @example
 * const tail = new TextTail(4096);
 * for await (const piece of pieces) tail.append(piece);
 * console.log(`${tail.length} characters, ending with ${tail.text()}`);
 */
export class TextTail {
  /** Characters appended in all. */
  length = 0;
  readonly limit: number;
  #tail = "";
  // Recent pieces, joined into the tail only now and then: one join of many small
  // pieces costs less than cutting the tail at every piece.
  readonly #pieces: string[] = [];
  #piecesLength = 0;

  constructor(limit = defaultTailCharacters) {
    this.limit = limit;
  }

  append(piece: string): void {
    if (piece === "") return;
    this.length += piece.length;
    if (piece.length >= this.limit) {
      this.#pieces.length = 0;
      this.#piecesLength = 0;
      this.#tail = piece.slice(-this.limit);
      return;
    }
    this.#pieces.push(piece);
    this.#piecesLength += piece.length;
    if (this.#piecesLength >= this.limit || this.#pieces.length >= maxPieces) this.#compact();
  }

  /** The last `limit` characters (all of them when fewer arrived). */
  text(): string {
    this.#compact();
    return this.#tail;
  }

  #compact(): void {
    if (this.#pieces.length === 0) return;
    const joined = this.#tail + this.#pieces.join("");
    this.#pieces.length = 0;
    this.#piecesLength = 0;
    this.#tail = joined.length > this.limit ? joined.slice(-this.limit) : joined;
  }
}

/** What a stream keeps of its text by default: enough for an error message and a look at the cut. */
export const defaultTailCharacters = 4096;

const maxPieces = 64;
