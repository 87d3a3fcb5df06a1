import assert from "node:assert/strict";
import { test } from "node:test";
import { ROOT_CONTEXT, SpanKind } from "@opentelemetry/api";
import { SamplingDecision } from "@opentelemetry/sdk-trace";
import { RateLimitingSampler } from "./rate-limiting-sampler.ts";

test("keeps every trace up to the rate, then a second's share of them", () => {
  let now = 0;
  const sampler = new RateLimitingSampler(10, () => now);
  const sampled = (count: number) =>
    Array.from({ length: count }, () =>
      sampler.shouldSample(ROOT_CONTEXT, "t", "s", SpanKind.SERVER),
    ).filter((result) => result.decision === SamplingDecision.RECORD_AND_SAMPLED).length;
  assert.equal(sampled(10), 10, "a second's worth at once");
  assert.equal(sampled(5), 0, "then none until time passes");
  now += 500;
  assert.equal(sampled(100), 5, "half a second later, half a second's worth");
  now += 60_000;
  assert.equal(sampled(100), 10, "an idle minute does not save up more than a second's worth");
});
