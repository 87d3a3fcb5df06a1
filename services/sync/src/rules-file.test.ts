import assert from "node:assert/strict";
import { test } from "node:test";
import { loadAccessRules } from "@syncstack/shared";
import { defaultAccessRulesFile } from "./rules-file.ts";

test("the rules file shipped beside the service is valid and leaves every collection owner-only", () => {
  const rules = loadAccessRules(defaultAccessRulesFile);
  assert.deepEqual(rules.policyOf("anything"), { policy: "owner" });
});
