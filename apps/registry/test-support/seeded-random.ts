/**
 * A small deterministic PRNG (mulberry32): the same seed gives the same numbers in
 * [0, 1), so a randomized run can be replayed from the seed it prints.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A PRNG for one item of a run (`seed`, the item's index, a salt such as an
 * upstream's name), so the item's draws do not depend on the order items run in.
 */
export function seededRandomFor(seed: number, index: number, salt: string): () => number {
  let hash = seed ^ Math.imul(index + 1, 0x9e3779b1);
  for (let position = 0; position < salt.length; position++)
    hash = Math.imul(hash ^ salt.charCodeAt(position), 0x01000193);
  return seededRandom(hash);
}
