import assert from "node:assert/strict";
import { test } from "node:test";
import { loadAccessRules } from "@syncstack/shared";
import { defaultAccessRulesFile } from "./rules-file.ts";

test("the rules file shipped beside the service is valid: the demo app's notes are shared with members, every other collection owner-only", () => {
  const rules = loadAccessRules(defaultAccessRulesFile);
  assert.deepEqual(rules.policyOf("shared_notes"), { policy: "members", members_field: "members" });
  assert.deepEqual(rules.policyOf("notes"), { policy: "owner" });
  assert.deepEqual(rules.policyOf("anything"), { policy: "owner" });
});
