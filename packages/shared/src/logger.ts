import { trace } from "@opentelemetry/api";
import { describeError } from "./errors.ts";

export type Severity = "DEBUG" | "INFO" | "WARNING" | "ERROR";
const rank: Record<Severity, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3 };

export type LogFields = Record<string, unknown>;

/** Structured logger writing Cloud Logging JSON lines, correlated with the active trace. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  projectId: string;
  level?: Severity;
  fields?: LogFields;
  write?: (line: string) => void;
}

/** Creates the process's logger; modules take a child with their own fields. */
export function createLogger(options: LoggerOptions): Logger {
  const { projectId, level = "INFO", fields: base = {} } = options;
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));

  const log = (severity: Severity, message: string, fields: LogFields = {}) => {
    if (rank[severity] < rank[level]) return;
    const entry: LogFields = { severity, message, time: new Date().toISOString(), ...base };
    for (const [key, value] of Object.entries(fields)) {
      if (value instanceof Error) {
        entry[key] = describeError(value);
        entry.stack_trace = value.stack;
      } else {
        entry[key] = value;
      }
    }
    const span = trace.getActiveSpan()?.spanContext();
    if (span) {
      entry["logging.googleapis.com/trace"] = `projects/${projectId}/traces/${span.traceId}`;
      entry["logging.googleapis.com/spanId"] = span.spanId;
      entry["logging.googleapis.com/trace_sampled"] = (span.traceFlags & 1) === 1;
    }
    write(JSON.stringify(entry));
  };

  return {
    debug: (message, fields) => log("DEBUG", message, fields),
    info: (message, fields) => log("INFO", message, fields),
    warn: (message, fields) => log("WARNING", message, fields),
    error: (message, fields) => log("ERROR", message, fields),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}
