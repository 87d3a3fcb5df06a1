import type { Context, SpanKind } from "@opentelemetry/api";
import { type Sampler, SamplingDecision, type SamplingResult } from "@opentelemetry/sdk-trace";

/**
 * Samples new traces up to `perSecond` a second (a token bucket holding a second's worth),
 * each one whole; past that rate, traces get ids but are not recorded. At the rates a person
 * looks at (a developer's stack, tests, a quiet service) every trace is kept; under load the
 * cost of recording and exporting stays bounded. Meant as the root of a ParentBasedSampler, so
 * a trace's later spans follow its first one's decision, across services too.
 */
export class RateLimitingSampler implements Sampler {
  readonly #perSecond: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(perSecond: number, now: () => number = () => performance.now()) {
    this.#perSecond = perSecond;
    this.#now = now;
    this.#tokens = perSecond;
    this.#last = now();
  }

  shouldSample(
    _context: Context,
    _traceId: string,
    _spanName: string,
    _spanKind: SpanKind,
  ): SamplingResult {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#perSecond,
      this.#tokens + ((now - this.#last) / 1_000) * this.#perSecond,
    );
    this.#last = now;
    if (this.#tokens < 1) return { decision: SamplingDecision.NOT_RECORD };
    this.#tokens -= 1;
    return { decision: SamplingDecision.RECORD_AND_SAMPLED };
  }

  toString(): string {
    return `RateLimitingSampler{${this.#perSecond}/s}`;
  }
}
