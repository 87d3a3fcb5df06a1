import fc from "fast-check";

/** Strings that break naive text handling: control, bidi, invisible, surrogate, lookalike. */
const hostileFragments = [
  "\u0000",
  "\u0007",
  "\r\n",
  "\ud800",
  "\udfff",
  "\udc00\ud800",
  "\u202e",
  "\u2066",
  "\u200b",
  "\u200d",
  "\ufeff",
  "\uffff",
  "\ufffd",
  "e\u0301",
  "\u{1f4a9}",
  "\u{10ffff}",
  "ｕｓｅｒｓ",
  "ᴜsers",
  "%2F",
  "%2e%2e",
  "%00",
  "\\",
  "../",
  "\u0024{x}",
  "{{x}}",
  "<script>",
  "'; --",
  "__proto__",
  "constructor",
];

/** One hostile fragment, or a short string built from them and ordinary characters. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...hostileFragments),
  fc
    .array(fc.oneof(fc.constantFrom(...hostileFragments), fc.string({ maxLength: 4 })), {
      minLength: 1,
      maxLength: 6,
    })
    .map((parts) => parts.join("")),
  fc.string({ unit: "binary", minLength: 1, maxLength: 12 }),
);

/** Strings Firestore refuses as ids or that the ingress must refuse. */
export const badId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("", ".", "..", "__x__", "____", "a/b", "/", "/a", "a/", "a//b"),
  fc.string({ maxLength: 8 }).map((text) => `__${text}__`),
  fc.string({ maxLength: 8 }).map((text) => `${text}/${text}`),
  fc.integer({ min: 1_501, max: 3_000 }).map((length) => "x".repeat(length)),
  fc.integer({ min: 751, max: 1_000 }).map((length) => "é".repeat(length)),
);

/** Any JSON value, including deep and wide ones. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(null, true, 0, -1, 1.5, 2 ** 53, "", [], {}),
  hostileString,
);

/** A value nested `depth` levels deep, as objects or arrays. */
export function nested(depth: number, kind: "object" | "array", leaf: unknown = 1): unknown {
  let value = leaf;
  for (let level = 0; level < depth; level++) value = kind === "object" ? { a: value } : [value];
  return value;
}

/** Deeply nested JSON text, from just past the limit to far past what a recursive parser survives. */
export const deepJsonText: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 21, max: 10_000 }), fc.constantFrom('{"a":', "["))
  .map(([depth, open]) => {
    const close = open === "[" ? "]" : "}";
    return `${open.repeat(depth)}1${close.repeat(depth)}`;
  });
