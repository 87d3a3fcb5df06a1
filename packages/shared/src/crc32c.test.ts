import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { CRC32C } from "@google-cloud/storage";
import { Crc32c, crc32cValidator } from "./crc32c.ts";

function digest(...parts: string[]): string {
  const crc = new Crc32c();
  for (const part of parts) crc.update(Buffer.from(part));
  return crc.digest();
}

test("crc32c matches the standard check value and the client's own implementation", () => {
  // CRC-32C("123456789") = 0xE3069283.
  assert.equal(digest("123456789"), Buffer.from("e3069283", "hex").toString("base64"));
  assert.equal(digest(""), "AAAAAA==");
  const text = "The quick brown fox jumps over the lazy dog, 0123456789 times.";
  const client = new CRC32C();
  client.update(Buffer.from(text));
  assert.equal(digest(text), client.toString());
  assert.equal(digest(text.slice(0, 7), text.slice(7, 30), text.slice(30)), client.toString());
});

test("chunked updates of a large random buffer agree with the client's implementation", () => {
  const data = randomBytes(3 * 1_048_576 + 7);
  const client = new CRC32C();
  client.update(data);
  const ours = new Crc32c();
  for (let at = 0; at < data.length; at += 65_537) ours.update(data.subarray(at, at + 65_537));
  assert.equal(ours.digest(), client.toString());
  // A plain Uint8Array view that starts inside its buffer is read where it starts, not copied.
  const tail = new CRC32C();
  tail.update(data.subarray(7));
  const view = new Crc32c();
  view.update(new Uint8Array(data.buffer, data.byteOffset + 7, data.length - 7));
  assert.equal(view.digest(), tail.toString());
});

test("the Storage client's validator form agrees with the client's own", () => {
  const data = Buffer.from(`${"x".repeat(10_000)}tail`);
  const ours = crc32cValidator();
  const client = new CRC32C();
  ours.update(data);
  client.update(data);
  assert.equal(ours.toString(), client.toString());
  assert.equal(ours.validate(client.toString()), true);
  assert.equal(ours.validate("AAAAAA=="), false);
});
