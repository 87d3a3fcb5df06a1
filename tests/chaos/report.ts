import { appendFile } from "node:fs/promises";

/**
 * Records what a fault test tried and found: one JSON line on stderr, and appended to the file
 * CHAOS_REPORT names, from which docs/reliability.md's figures come.
 */
export async function report(scenario: string, figures: Record<string, unknown>): Promise<void> {
  const line = JSON.stringify({ scenario, at: new Date().toISOString(), ...figures }, (_, value) =>
    value instanceof Map ? Object.fromEntries(value) : value,
  );
  process.stderr.write(`chaos: ${line}\n`);
  if (process.env.CHAOS_REPORT) await appendFile(process.env.CHAOS_REPORT, `${line}\n`);
}
