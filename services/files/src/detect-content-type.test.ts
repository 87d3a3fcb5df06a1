import assert from "node:assert/strict";
import { test } from "node:test";
import { detectContentType, sniffContentType } from "./detect-content-type.ts";

const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(
    parts.flatMap((part) =>
      typeof part === "string" ? [...part].map((c) => c.charCodeAt(0)) : part,
    ),
  );

test("recognises image and document formats by their magic numbers", () => {
  assert.equal(sniffContentType(bytes([0xff, 0xd8, 0xff, 0xe0])), "image/jpeg");
  assert.equal(sniffContentType(bytes("\x89PNG\r\n\x1a\n")), "image/png");
  assert.equal(sniffContentType(bytes("GIF89a")), "image/gif");
  assert.equal(sniffContentType(bytes("RIFF", [0, 0, 0, 0], "WEBPVP8 ")), "image/webp");
  assert.equal(sniffContentType(bytes([0, 0, 0, 0x1c], "ftypavif")), "image/avif");
  assert.equal(sniffContentType(bytes("II*\x00")), "image/tiff");
  assert.equal(sniffContentType(bytes("%PDF-1.7")), "application/pdf");
  assert.equal(sniffContentType(bytes("hello")), undefined);
});

test("the bytes win over a lying declared type", () => {
  assert.equal(detectContentType(bytes("\x89PNG\r\n\x1a\n"), "image/jpeg"), "image/png");
  assert.equal(detectContentType(bytes("just text"), "image/png"), "application/octet-stream");
  assert.equal(detectContentType(bytes("just text"), "text/plain; charset=utf-8"), "text/plain");
  assert.equal(detectContentType(bytes("x"), undefined), "application/octet-stream");
});
