/** How many sequence numbers behind the highest one seen a window still checks. */
export const REPLAY_WINDOW_SIZE = 2048;
const WORDS = REPLAY_WINDOW_SIZE / 32;

/** What a replay window says of a sequence number. */
export type ReplayVerdict = 'fresh' | 'replay' | 'stale';

/**
 * Anti-replay for the sequence numbers of one session (as IPsec and DTLS
 * keep it): the highest number seen and a bitmap of the REPLAY_WINDOW_SIZE
 * numbers below it. Numbers may arrive out of order inside the window; one
 * seen before is a replay, one below the window is too old to tell (stale).
 * Fixed memory per session, O(1) per check.
 */
export class ReplayWindow {
  #top = 0;
  readonly #bits = new Uint32Array(WORDS);

  /** Records `seq` (a positive safe integer) and says whether it was fresh. */
  accept(seq: number): ReplayVerdict {
    if (seq > this.#top) {
      if (seq - this.#top >= REPLAY_WINDOW_SIZE) this.#bits.fill(0);
      else for (let n = this.#top + 1; n < seq; n++) this.#clear(n);
      this.#top = seq;
      this.#set(seq);
      return 'fresh';
    }
    if (this.#top - seq >= REPLAY_WINDOW_SIZE) return 'stale';
    const index = seq % REPLAY_WINDOW_SIZE;
    const word = index >>> 5;
    const bit = 1 << (index & 31);
    if ((this.#bits[word]! & bit) !== 0) return 'replay';
    this.#bits[word]! |= bit;
    return 'fresh';
  }

  #set(seq: number): void {
    const index = seq % REPLAY_WINDOW_SIZE;
    this.#bits[index >>> 5]! |= 1 << (index & 31);
  }

  #clear(seq: number): void {
    const index = seq % REPLAY_WINDOW_SIZE;
    this.#bits[index >>> 5]! &= ~(1 << (index & 31));
  }
}
