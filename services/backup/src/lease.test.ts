import assert from "node:assert/strict";
import { test } from "node:test";
import { leaseFor, leaseIsLive } from "./lease.ts";

test("a lease keeps others out until its expiry instant and not after, on a fake clock", () => {
  let clock = Date.UTC(2026, 0, 1, 3, 0, 0);
  const now = () => clock;
  const lease = leaseFor("b-1", 60_000, now());
  assert.equal(lease.holder, "b-1");
  assert.equal(lease.acquired_at.toMillis(), clock);
  assert.equal(lease.expires_at.toMillis(), clock + 60_000);
  clock += 59_999;
  assert.equal(leaseIsLive(lease.expires_at, now()), true, "1 ms before expiry it is live");
  clock += 1;
  assert.equal(leaseIsLive(lease.expires_at, now()), false, "at its expiry it can be taken over");
  assert.equal(leaseIsLive(undefined, now()), false, "a lease without expiry keeps nobody out");
});
