import { type ParseArgsConfig, parseArgs } from "node:util";

/** How a CLI stops on bad input: the problem, then its usage, on stderr; exit code 2. */
export function usageError(name: string, usage: string): (message: string) => never {
  return (message) => {
    process.stderr.write(`${name}: ${message}\n\n${usage}\n`);
    process.exit(2);
  };
}

/** A parseArgs configuration that has the `-h, --help` every CLI takes. */
export type CommandLineConfig = ParseArgsConfig & {
  options: { help: { type: "boolean"; short: "h" } };
};

/**
 * A CLI's arguments through node's parseArgs: `--help` prints the usage and exits 0; an
 * unknown option or a missing value goes to `fail` (usually `usageError`).
 */
export function parseCommandLine<const T extends CommandLineConfig>(
  config: T,
  usage: string,
  fail: (message: string) => never,
): ReturnType<typeof parseArgs<T>> {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    return fail((error as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed;
}
