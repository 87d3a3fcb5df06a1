import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type MigrateArgs, parseArgs } from "./parse-args.ts";
import { orderingFields, parseWhere } from "./parse-where.ts";

function parsed(...argv: string[]): MigrateArgs {
  const result = parseArgs(argv);
  assert.equal(result.kind, "run", result.kind === "error" ? result.message : "");
  return (result as { args: MigrateArgs }).args;
}

function rejected(...argv: string[]): string {
  const result = parseArgs(argv);
  assert.equal(result.kind, "error");
  return (result as { message: string }).message;
}

describe("parseArgs", () => {
  test("reads every option, in either --name value or --name=value form", () => {
    const args = parsed(
      "--from=users/u1/notes",
      "--to",
      "notes_v2",
      "--transform",
      "./t.ts",
      "--where",
      "status == active",
      "--where=n >= 10",
      "--recursive",
      "--delete-source",
      "--resume",
      "--checkpoint",
      "cp.json",
      "--report=r.ndjson",
      "--page-size",
      "250",
      "--project",
      "p1",
    );
    assert.deepEqual(args, {
      from: "users/u1/notes",
      to: "notes_v2",
      transform: "./t.ts",
      where: [
        { field: "status", op: "==", value: "active" },
        { field: "n", op: ">=", value: 10 },
      ],
      recursive: true,
      deleteSource: true,
      dryRun: false,
      resume: true,
      restart: false,
      checkpoint: "cp.json",
      report: "r.ndjson",
      pageSize: 250,
      project: "p1",
    });
  });

  test("defaults: no transform or filter, 500 documents a page, nothing else on", () => {
    const args = parsed("--from", "a", "--to", "b", "--dry-run");
    assert.equal(args.pageSize, 500);
    assert.equal(args.dryRun, true);
    assert.deepEqual(
      [args.transform, args.where, args.recursive, args.resume],
      [undefined, [], false, false],
    );
  });

  test("-h and --help ask for the usage wherever they appear", () => {
    assert.deepEqual(parseArgs(["--from", "a", "-h"]), { kind: "help" });
    assert.deepEqual(parseArgs(["--help", "--bogus"]), { kind: "help" });
  });

  test("rejects missing, unknown, repeated and valueless options and stray arguments", () => {
    assert.match(rejected(), /--from and --to are required/);
    assert.match(rejected("--from", "a"), /--from and --to are required/);
    assert.match(rejected("--from", "a", "--to", "b", "--frm", "c"), /unknown option --frm/);
    assert.match(rejected("--from", "a", "--to", "b", "--from", "c"), /--from is given twice/);
    assert.match(rejected("--from", "--to", "b"), /--from needs a value/);
    assert.match(rejected("--from", "a", "--to"), /--to needs a value/);
    assert.match(rejected("--from=", "--to", "b"), /--from needs a value/);
    assert.match(rejected("--from", "a", "--to", "b", "--dry-run=yes"), /--dry-run takes no value/);
    assert.match(rejected("--from", "a", "--to", "b", "extra"), /unexpected argument extra/);
  });

  test("rejects paths that are not collections and ids Firestore refuses", () => {
    assert.match(rejected("--from", "users/u1", "--to", "b"), /users\/u1 is a document path/);
    assert.match(rejected("--from", "a", "--to", "a//b"), /"" is not a valid/);
    assert.match(rejected("--from", "__meta__", "--to", "b"), /"__meta__" is not a valid/);
    assert.match(rejected("--from", "a/../b", "--to", "c"), /is a document path|not a valid/);
    assert.match(rejected("--from", "x".repeat(1_501), "--to", "b"), /over 1,500 bytes/);
  });

  test("rejects a page size that is not a whole number from 1 to 10000", () => {
    for (const size of ["0", "10001", "1.5", "-3", "ten"]) {
      assert.match(
        rejected("--from", "a", "--to", "b", "--page-size", size),
        /--page-size must be/,
      );
    }
  });

  test("rejects combinations that would lose data or mean nothing", () => {
    assert.match(rejected("--from", "a", "--to", "a"), /same collection: nothing to copy/);
    assert.equal(parsed("--from", "a", "--to", "a", "--transform", "t.ts").to, "a");
    const inPlace = ["--from", "a", "--to", "a", "--transform", "t.ts"];
    assert.match(rejected(...inPlace, "--delete-source"), /deletes the data/);
    assert.match(rejected(...inPlace, "--recursive"), /rewrites subcollections/);
    assert.match(rejected("--from", "a", "--to", "a/x/b", "--recursive"), /copy the copy/);
    assert.equal(parsed("--from", "a", "--to", "a/x/b").to, "a/x/b");
    assert.match(
      rejected("--from", "a", "--to", "b", "--resume", "--restart"),
      /exclude each other/,
    );
    assert.match(
      rejected("--from", "a", "--to", "b", "--dry-run", "--resume"),
      /keeps no checkpoint/,
    );
  });
});

describe("parseWhere", () => {
  test("reads values as JSON when they parse and as strings otherwise", () => {
    const value = (text: string) => (parseWhere(`f == ${text}`) as { value: unknown }).value;
    assert.equal(value("10"), 10);
    assert.equal(value("-2.5"), -2.5);
    assert.equal(value("true"), true);
    assert.equal(value("null"), null);
    assert.equal(value('"two words"'), "two words");
    assert.equal(value("bare"), "bare");
    assert.equal(value("two bare words"), "two bare words");
    assert.equal(value('"10"'), "10");
    assert.deepEqual(value('{"a":1}'), { a: 1 });
  });

  test("takes every Firestore operator and dotted field paths", () => {
    for (const op of ["==", "!=", "<", "<=", ">", ">=", "array-contains"]) {
      assert.deepEqual(parseWhere(`meta.n ${op} 3`), { field: "meta.n", op, value: 3 });
    }
    for (const op of ["in", "not-in", "array-contains-any"]) {
      assert.deepEqual(parseWhere(`tag ${op} ["a","b"]`), { field: "tag", op, value: ["a", "b"] });
    }
  });

  test("explains what is wrong with a filter", () => {
    assert.match(parseWhere("n==3") as string, /expected "<field> <op> <value>"/);
    assert.match(parseWhere("n =~ 3") as string, /unknown operator =~/);
    assert.match(parseWhere("n in 3") as string, /in takes a non-empty JSON array/);
    assert.match(parseWhere("n not-in []") as string, /non-empty JSON array/);
    assert.match(parseWhere("a..b == 3") as string, /a\.\.b is not a field path/);
  });

  test("orders by each inequality field once, ahead of the document id", () => {
    const where = ["z > 1", "a != 2", "z < 9", "kind == x", "tags array-contains y"].map(
      (text) => parseWhere(text) as Exclude<ReturnType<typeof parseWhere>, string>,
    );
    assert.deepEqual(orderingFields(where), ["a", "z"]);
  });
});
