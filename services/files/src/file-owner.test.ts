import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ownerOf } from "./file-owner.ts";

describe("ownerOf", () => {
  test("names the uid of an object under users/{uid}/", () => {
    assert.equal(ownerOf("users/alice/photo.jpg"), "alice");
    assert.equal(ownerOf("users/alice/2026/06/photo.jpg"), "alice");
    assert.equal(ownerOf("users/u-1_\u00e9/a"), "u-1_\u00e9");
    assert.equal(ownerOf(`users/${"u".repeat(128)}/a`), "u".repeat(128));
  });

  test("is null outside the convention", () => {
    for (const name of [
      "photos/cat.jpg",
      "users/alice",
      "users/alice/",
      "users//photo.jpg",
      "Users/alice/photo.jpg",
      "x/users/alice/photo.jpg",
      `users/${"u".repeat(129)}/a`,
    ]) {
      assert.equal(ownerOf(name), null, name);
    }
  });
});
