import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { parseMultipartRelated } from "./multipart-related.ts";

const boundary = "b0undary";

function body(media: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/json\r\n\r\n{"name":"x"}\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Type: image/jpeg\r\n\r\n`),
    media,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

async function parse(chunks: Buffer[]): Promise<{ count: number; parts: Buffer[] }> {
  const parts: Buffer[][] = [];
  const count = await parseMultipartRelated(
    (async function* () {
      yield* chunks;
    })(),
    boundary,
    {
      start: (index) => {
        parts[index] = [];
      },
      data: async (index, chunk) => void parts[index]?.push(Buffer.from(chunk)),
    },
  );
  return { count, parts: parts.map((pieces) => Buffer.concat(pieces)) };
}

// Media that holds pieces of the delimiter, so a split near them must not end the part early.
const media = Buffer.concat([
  Buffer.from(`\r\n--${boundary.slice(0, 5)}`),
  randomBytes(40),
  Buffer.from(`\r\n-`),
  randomBytes(3),
  Buffer.from("\r\n--b0undar"),
]);
const whole = body(media);

test("parts come out whole however the body is split in two or three", async () => {
  for (let first = 1; first < whole.length; first++) {
    const split = await parse([whole.subarray(0, first), whole.subarray(first)]);
    assert.equal(split.count, 2, `split at ${first}`);
    assert.equal(split.parts[0]?.toString(), '{"name":"x"}', `split at ${first}`);
    assert.deepEqual(split.parts[1], media, `split at ${first}`);
    const second = Math.min(first + 7, whole.length - 1);
    if (second <= first) continue;
    const three = await parse([
      whole.subarray(0, first),
      whole.subarray(first, second),
      whole.subarray(second),
    ]);
    assert.deepEqual(three.parts[1], media, `split at ${first} and ${second}`);
  }
});

test("a large media part in many chunks arrives byte for byte", async () => {
  const large = randomBytes(3 * 65_536 + 11);
  const bytes = body(large);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 65_536) chunks.push(bytes.subarray(at, at + 65_536));
  const { count, parts } = await parse(chunks);
  assert.equal(count, 2);
  assert.deepEqual(parts[1], large);
});

test("a body cut before its closing delimiter is refused", async () => {
  await assert.rejects(parse([whole.subarray(0, whole.length - 6)]), /ended before its closing/);
});
