import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Timestamp } from "@google-cloud/firestore";
import { applyTransform } from "./apply-transform.ts";

describe("applyTransform", () => {
  test("without a transform the data is written as read", async () => {
    const data = { n: 1n };
    assert.deepEqual(await applyTransform(undefined, data, "d"), { kind: "write", data });
  });

  test("passes the data and id, awaits async transforms, and null skips", async () => {
    const outcome = await applyTransform(async (data, id) => ({ ...data, id }), { a: 1 }, "d1");
    assert.deepEqual(outcome, { kind: "write", data: { a: 1, id: "d1" } });
    assert.deepEqual(await applyTransform(() => null, { a: 1 }, "d1"), { kind: "skip" });
  });

  test("gives the transform numbers for integers a number holds, bigint beyond", async () => {
    let seen: unknown;
    const at = new Timestamp(5, 6);
    await applyTransform(
      (data) => {
        seen = data;
        return data;
      },
      { small: 7n, big: 2n ** 60n, list: [1n, { deep: -3n }], at },
      "d",
    );
    assert.deepEqual(seen, { small: 7, big: 2n ** 60n, list: [1, { deep: -3 }], at });
    assert.equal((seen as { at: unknown }).at, at, "Firestore classes are passed as they are");
  });

  test("a throw or a result that is not an object fails the document with a reason", async () => {
    const reason = async (output: () => unknown) => {
      const outcome = await applyTransform(output as never, { a: 1 }, "d");
      assert.equal(outcome.kind, "fail");
      return (outcome as { reason: string }).reason;
    };
    assert.equal(
      await reason(() => {
        throw new TypeError("no");
      }),
      "transform threw: TypeError: no",
    );
    assert.equal(
      await reason(() => Promise.reject(new Error("later"))),
      "transform threw: Error: later",
    );
    assert.match(
      await reason(() => "text"),
      /^transform returned a string \(text\), not an object \(return null to skip\)$/,
    );
    assert.match(await reason(() => 3), /returned a number \(3\)/);
    assert.match(await reason(() => undefined), /returned undefined, not an object/);
    assert.match(await reason(() => [1]), /returned an array/);
    assert.match(await reason(() => new Date(0)), /returned a Date/);
    assert.match(await reason(() => new Timestamp(1, 1)), /returned a Timestamp/);
  });
});
