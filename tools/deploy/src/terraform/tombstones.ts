import { createHash } from "node:crypto";
import { join } from "node:path";
import { repoRoot } from "@syncstack/local-stack";
import { type AccessRules, loadAccessRules } from "@syncstack/shared";
import { type TerraformJson, tfId } from "./terraform.ts";

/** The access rules file the sync service ships with (docs/access-rules.md). */
export const accessRulesFile = join(repoRoot, "services", "sync", "access-rules.json");

/** The field the sync ingress stamps on a tombstone: its deletion time plus the retention. */
export const tombstoneTtlField = "expire_at";

/**
 * The Terraform name of a collection's tombstone TTL policy: `tombstones_<collection>_ttl`.
 * A name Terraform cannot spell as is gets a short hash of the real name, so two collections
 * that sanitize alike (`to-do`, `to.do`) still get distinct, stable resources.
 */
export function tombstoneTtlResourceName(collection: string): string {
  const id = tfId(collection);
  if (id === collection) return `tombstones_${id}_ttl`;
  const hash = createHash("sha256").update(collection).digest("hex").slice(0, 8);
  return `tombstones_${id}_${hash}_ttl`;
}

/**
 * A Firestore TTL policy on `expire_at` for each app collection the access rules name, so
 * deleted documents' tombstones are deleted after the retention. TTL policies are per
 * collection group, so a collection the rules do not name keeps its tombstones (no data,
 * a few small fields each) until it is named.
 *
 * In app collections `updated_at`, `readers.*` and `expire_at` must stay indexed: the change
 * feed orders by `updated_at` (every document) and by `readers.<uid>` (one user's) through
 * their automatic single-field indexes, so nothing here exempts a field, and the policy sets
 * no `index_config`, which keeps `expire_at`'s default indexes.
 */
export function renderTombstoneTtls(
  rules: AccessRules = loadAccessRules(accessRulesFile),
): TerraformJson {
  const fields: Record<string, { collection: string } & Record<string, unknown>> = {};
  for (const collection of [...rules.named().keys()].sort()) {
    const name = tombstoneTtlResourceName(collection);
    const taken = fields[name];
    if (taken) {
      throw new Error(
        `access rules: collections ${taken.collection} and ${collection} both render as google_firestore_field.${name}`,
      );
    }
    fields[name] = {
      database: "(default)",
      collection,
      field: tombstoneTtlField,
      ttl_config: {},
      depends_on: ["google_firestore_database.default", "google_project_service.firestore"],
    };
  }
  return Object.keys(fields).length === 0 ? {} : { resource: { google_firestore_field: fields } };
}
