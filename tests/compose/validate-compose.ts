import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";

/**
 * The Compose specification's JSON Schema (the compose-spec project's
 * schema/compose-spec.json), as the maintained linter dclint ships it: its version is pinned in
 * the workspace catalog, and a newer dclint brings a newer schema.
 */
const schemaPath = join(
  dirname(createRequire(import.meta.url).resolve("dclint/package.json")),
  "schemas/compose.schema.json",
);
// Draft-07, Ajv's own dialect; its $schema spells the draft's URL with https, which Ajv
// does not know by that name.
const { $schema: _draft07, ...schema } = JSON.parse(readFileSync(schemaPath, "utf8"));
// Ajv's strict mode lints how a schema is written (union types, keywords without a type);
// the upstream schema is not ours to restyle, and validation is the same without it.
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

/** A compose service as this test reads it (the schema has checked its shape). */
export type ComposeService = {
  image?: string;
  build?: { target?: string; args?: Record<string, string> };
  environment?: Record<string, string>;
  command?: string | string[];
  ports?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
};

/**
 * Parses a compose file as Compose does (YAML 1.1 merge keys `<<`, anchors) and validates it
 * against the Compose specification; throws an Error listing each problem with its path.
 */
export function validateCompose(text: string): { services: Record<string, ComposeService> } {
  const config: unknown = parse(text, { merge: true });
  if (!validate(config)) {
    const problems = (validate.errors ?? []).map((error) => {
      const extra = (error.params as { additionalProperty?: string }).additionalProperty;
      return `${error.instancePath || "/"} ${error.message}${extra ? `: ${extra}` : ""}`;
    });
    throw new Error(
      `the compose file does not follow the Compose specification:\n${problems.join("\n")}`,
    );
  }
  return config as { services: Record<string, ComposeService> };
}
