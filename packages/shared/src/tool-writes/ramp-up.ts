/**
 * Production Firestore's 500/50/5 rule for a tool's writes, as BulkWriter's throttling
 * applies it: start at 500 writes per second and grow 50% every 5 minutes. Each `acquire`
 * reserves the next slot of its size, so concurrent commits share the rate.
 */
export class RampUp {
  readonly #start: number;
  readonly #now: () => number;
  #next: number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#start = now();
    this.#next = this.#start;
  }

  /** Writes per second allowed now. */
  rate(): number {
    return 500 * 1.5 ** Math.floor((this.#now() - this.#start) / 300_000);
  }

  /** Resolves when `writes` more writes fit in the rate. */
  async acquire(writes: number): Promise<void> {
    const now = this.#now();
    const at = Math.max(now, this.#next);
    this.#next = at + (writes / this.rate()) * 1_000;
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  }
}
