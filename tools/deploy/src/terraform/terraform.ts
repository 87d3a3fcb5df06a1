/** A Terraform JSON block: attribute names to values, nested blocks as objects or arrays. */
export type Block = { [name: string]: unknown };

/** A Terraform JSON configuration (`*.tf.json`), as far as the renderer writes one. */
export interface TerraformJson {
  terraform?: Block;
  provider?: Record<string, Block>;
  variable?: Record<string, Block>;
  locals?: Block;
  data?: Record<string, Record<string, Block>>;
  resource?: Record<string, Record<string, Block>>;
  output?: Record<string, Block>;
}

/** A Terraform identifier from a name: `realtime-updates` -> `realtime_updates`. */
export function tfId(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, "_");
}

/** An interpolation of a resource attribute: `${google_pubsub_topic.stats_tick.id}`. */
export function ref(type: string, name: string, attribute: string): string {
  return `\${${type}.${tfId(name)}.${attribute}}`;
}

/** Merges configurations; two parts declaring the same resource, variable or local is a bug. */
export function mergeTerraform(...parts: TerraformJson[]): TerraformJson {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const part of parts) {
    for (const [section, entries] of Object.entries(part) as [string, Block][]) {
      const into = merged[section] ?? {};
      merged[section] = into;
      const nested = section === "resource" || section === "data";
      for (const [key, value] of Object.entries(entries)) {
        if (!nested) {
          if (key in into) throw new Error(`${section} ${key} is rendered twice`);
          into[key] = value;
          continue;
        }
        const byName = (into[key] ?? {}) as Block;
        into[key] = byName;
        for (const [name, block] of Object.entries(value as Block)) {
          if (name in byName) throw new Error(`${section} ${key}.${name} is rendered twice`);
          byName[name] = block;
        }
      }
    }
  }
  return merged as TerraformJson;
}
