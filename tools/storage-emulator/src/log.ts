/** Writes one line; the CLI prints it, tests keep or drop it. */
export type LineWriter = (line: string) => void;

/** A small structured logger: each entry is one JSON line with `severity` and `message`. */
export interface Log {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A Log writing Cloud Logging style JSON lines through `write`. */
export function jsonLog(write: LineWriter): Log {
  const entry =
    (severity: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      write(JSON.stringify({ severity, message, time: new Date().toISOString(), ...fields }));
  return { info: entry("INFO"), warn: entry("WARNING"), error: entry("ERROR") };
}
