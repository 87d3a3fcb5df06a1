import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  type Caller,
  decide,
  feedScope,
  loadAccessRules,
  membersIn,
  type Ownership,
  type Policy,
  parseAccessRules,
  storedMembers,
} from "./access-rules.ts";

const parse = (value: unknown) => parseAccessRules(JSON.stringify(value), "rules.json");

describe("the access rules file", () => {
  test("names a policy per collection; a collection it does not name is owner-only", () => {
    const rules = parse({
      collections: {
        projects: { policy: "members", members_field: "members" },
        posts: { policy: "shared-read" },
        flags: { policy: "admin-only" },
        notes: { policy: "owner" },
      },
    });
    assert.deepEqual(rules.policyOf("projects"), { policy: "members", members_field: "members" });
    assert.deepEqual(rules.policyOf("posts"), { policy: "shared-read" });
    assert.deepEqual(rules.policyOf("unnamed"), { policy: "owner" });
  });

  test("a bad entry stops start-up with an error naming the file and the entry", () => {
    const cases: [unknown, RegExp][] = [
      [
        { collections: { posts: { policy: "public" } } },
        /collections\.posts\.policy: policy must be one of owner, members, shared-read, admin-only/,
      ],
      [
        { collections: { projects: { policy: "members" } } },
        /collections\.projects\.members_field is required/,
      ],
      [
        { collections: { projects: { policy: "members", members_field: "a.b" } } },
        /members_field must be a top-level field name/,
      ],
      [
        { collections: { notes: { policy: "owner", readers: ["x"] } } },
        /unknown field in collections\.notes: readers/,
      ],
      [
        { collections: { users: { policy: "shared-read" } } },
        /collections\.users is owned by syncstack/,
      ],
      [
        { collections: { _outbox: { policy: "admin-only" } } },
        /collections\._outbox is owned by syncstack/,
      ],
      [{ collections: { "a/b": { policy: "owner" } } }, /collections\.a\/b/],
      [{ colections: {} }, /unknown field: colections/],
      [[], /rules\.json/],
    ];
    for (const [value, message] of cases) {
      assert.throws(
        () => parse(value),
        (error: Error) => {
          assert.match(error.message, /^access rules rules\.json: /, JSON.stringify(value));
          assert.match(error.message, message, JSON.stringify(value));
          return true;
        },
      );
    }
    assert.throws(() => parseAccessRules("{nope", "rules.json"), /rules\.json: not valid JSON/);
  });

  test("a file that cannot be read is named", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rules-"));
    assert.throws(
      () => loadAccessRules(join(dir, "missing.json")),
      /missing\.json: cannot be read/,
    );
    const file = join(dir, "rules.json");
    await writeFile(file, JSON.stringify({ collections: { posts: { policy: "shared-read" } } }));
    assert.deepEqual(loadAccessRules(file).policyOf("posts"), { policy: "shared-read" });
  });
});

describe("decisions", () => {
  const owner: Caller = { uid: "olga", admin: false };
  const member: Caller = { uid: "mia", admin: false };
  const other: Caller = { uid: "otto", admin: false };
  const admin: Caller = { uid: "ada", admin: true };
  const document: Ownership = { createdBy: "olga", members: ["mia"] };
  const policies: Record<string, Policy> = {
    owner: { policy: "owner" },
    members: { policy: "members", members_field: "members" },
    "shared-read": { policy: "shared-read" },
    "admin-only": { policy: "admin-only" },
  };
  // read, write, delete, change-members for owner, member, other, admin.
  const expected: Record<string, Record<string, string[]>> = {
    owner: {
      olga: ["allow", "allow", "allow", "allow"],
      mia: ["hidden", "hidden", "hidden", "hidden"],
      otto: ["hidden", "hidden", "hidden", "hidden"],
      ada: ["allow", "allow", "allow", "allow"],
    },
    members: {
      olga: ["allow", "allow", "allow", "allow"],
      mia: ["allow", "allow", "forbidden", "forbidden"],
      otto: ["hidden", "hidden", "hidden", "hidden"],
      ada: ["allow", "allow", "allow", "allow"],
    },
    "shared-read": {
      olga: ["allow", "allow", "allow", "allow"],
      mia: ["allow", "forbidden", "forbidden", "forbidden"],
      otto: ["allow", "forbidden", "forbidden", "forbidden"],
      ada: ["allow", "allow", "allow", "allow"],
    },
    "admin-only": {
      olga: ["forbidden", "forbidden", "forbidden", "forbidden"],
      mia: ["forbidden", "forbidden", "forbidden", "forbidden"],
      otto: ["forbidden", "forbidden", "forbidden", "forbidden"],
      ada: ["allow", "allow", "allow", "allow"],
    },
  };

  test("each policy decides each action for the owner, a member, another user and an admin", () => {
    for (const [name, policy] of Object.entries(policies)) {
      for (const caller of [owner, member, other, admin]) {
        const decisions = (["read", "write", "delete", "change-members"] as const).map((action) =>
          decide(policy, caller, document, action),
        );
        assert.deepEqual(decisions, expected[name]?.[caller.uid], `${name} for ${caller.uid}`);
      }
    }
  });

  test("a document without a recorded creator is the admins' alone", () => {
    const legacy: Ownership = { createdBy: undefined, members: [] };
    assert.equal(decide(policies.owner as Policy, owner, legacy, "read"), "hidden");
    assert.equal(decide(policies.owner as Policy, admin, legacy, "write"), "allow");
  });

  test("the feed is the caller's readable documents, all of them, or closed", () => {
    assert.equal(feedScope(policies.owner as Policy, owner), "readable");
    assert.equal(feedScope(policies.members as Policy, member), "readable");
    assert.equal(feedScope(policies["shared-read"] as Policy, other), "all");
    assert.equal(feedScope(policies["admin-only"] as Policy, other), "forbidden");
    assert.equal(feedScope(policies.owner as Policy, admin), "all");
  });
});

test("a members list is validated when written and tolerated when read back", () => {
  const policy: Policy = { policy: "members", members_field: "members" };
  assert.deepEqual(membersIn(policy, { members: ["a", "b", "a"] }), ["a", "b"]);
  assert.throws(() => membersIn(policy, { members: "a" }), /data\.members must be a list/);
  assert.deepEqual(storedMembers(policy, { members: "a" }), [], "nobody is a member");
  assert.deepEqual(storedMembers(policy, { members: ["a"] }), ["a"]);
  assert.deepEqual(storedMembers({ policy: "owner" }, { members: ["a"] }), []);
});
