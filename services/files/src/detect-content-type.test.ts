import assert from "node:assert/strict";
import { test } from "node:test";
import sharp from "sharp";
import { detectContentType, sniffContentType } from "./detect-content-type.ts";

const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(
    parts.flatMap((part) =>
      typeof part === "string" ? [...part].map((c) => c.charCodeAt(0)) : part,
    ),
  );

/** The first `length` bytes of a real 64x48 image encoded by sharp in `format`. */
async function imageHead(
  format: "jpeg" | "png" | "webp" | "gif" | "avif" | "tiff",
  length = 4_100,
) {
  const image = sharp({ create: { width: 64, height: 48, channels: 3, background: "#c33" } });
  return (await image.toFormat(format).toBuffer()).subarray(0, length);
}

test("recognises the image formats sharp thumbnails from a real file's head", async () => {
  for (const [format, type] of [
    ["jpeg", "image/jpeg"],
    ["png", "image/png"],
    ["webp", "image/webp"],
    ["gif", "image/gif"],
    ["avif", "image/avif"],
    ["tiff", "image/tiff"],
  ] as const) {
    assert.equal(await sniffContentType(await imageHead(format)), type, format);
  }
});

test("a TIFF shows its type only past the first 64 bytes, within the 4,100-byte head", async () => {
  assert.equal(await sniffContentType(await imageHead("tiff", 64)), undefined);
  assert.equal(await sniffContentType(await imageHead("tiff")), "image/tiff");
});

test("recognises document and archive formats by their magic numbers", async () => {
  assert.equal(await sniffContentType(bytes("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")), "application/pdf");
  assert.equal(
    await sniffContentType(bytes([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0])),
    "application/gzip",
  );
  assert.equal(await sniffContentType(bytes("hello, plain text")), undefined);
});

test("the bytes win over a lying declared type", async () => {
  const png = await imageHead("png");
  assert.equal(await detectContentType(png, "image/jpeg"), "image/png");
  assert.equal(
    await detectContentType(bytes("just text"), "image/png"),
    "application/octet-stream",
  );
  assert.equal(
    await detectContentType(bytes("just text"), "application/pdf"),
    "application/octet-stream",
  );
  assert.equal(
    await detectContentType(bytes("just text"), "text/plain; charset=utf-8"),
    "text/plain",
  );
  assert.equal(await detectContentType(bytes("x"), undefined), "application/octet-stream");
});
