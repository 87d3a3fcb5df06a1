import type { RetryPolicy } from "../topics/topic.ts";

interface Failure {
  failures: number;
  notBefore: number;
}

/** Pub/Sub's exponential backoff before attempt `attempt + 1`, in milliseconds. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const seconds = Math.min(policy.maxBackoffSeconds, policy.minBackoffSeconds * 2 ** (attempt - 1));
  return seconds * 1_000;
}

/**
 * Counts delivery attempts and enforces backoff where Pub/Sub does not report them: the
 * emulator's push envelope has no `deliveryAttempt` and redelivers about every second.
 * Production push and pull report attempts and back off themselves, so this is not used.
 * Kept in memory: a restart forgets counts, which can only cost extra attempts.
 */
export class AttemptTracker {
  readonly #failures = new Map<string, Failure>();
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(options: { capacity?: number; now?: () => number } = {}) {
    this.#capacity = options.capacity ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** The attempt this delivery is, or `wait` ms when it came before its backoff elapsed. */
  begin(key: string): { attempt: number; waitMs: number } {
    const failure = this.#failures.get(key);
    if (!failure) return { attempt: 1, waitMs: 0 };
    return { attempt: failure.failures + 1, waitMs: Math.max(0, failure.notBefore - this.#now()) };
  }

  /** Records a failed attempt; the next one may run after the policy's backoff. */
  failed(key: string, attempt: number, policy: RetryPolicy): void {
    this.#failures.delete(key);
    this.#failures.set(key, {
      failures: attempt,
      notBefore: this.#now() + backoffMs(policy, attempt),
    });
    if (this.#failures.size > this.#capacity) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
  }

  /** Forgets a message that was acked. */
  settled(key: string): void {
    this.#failures.delete(key);
  }
}
