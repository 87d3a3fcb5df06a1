/** The gRPC status a Firestore emulator failure stands for, by the start of its message. */
const expectedOutcomes: [RegExp, string][] = [
  [/^entity already exists/, "ALREADY_EXISTS"],
  [/^no entity to update/, "NOT_FOUND"],
  [/does not match the required base version/, "FAILED_PRECONDITION"],
  [/^Transaction lock timeout|^Aborted|contention/i, "ABORTED"],
];

/** A java.util.logging record header: "Dec 03, 2026 6:09:11 PM <class> <method>". */
const recordHeader = /^[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} [AP]M \S+ \S+$/;
const operationFailed = /^WARNING: Operation failed: (.*)$/;
/** Lines of a Java stack trace after its exception line. */
const traceLine = /^\s+at |^\s+\.\.\. \d+ more$|^Caused by: /;

/**
 * Wraps the Firestore emulator's log so that a failed operation that is a normal outcome for
 * a client (a create on an existing document, an update of a missing one, a failed
 * precondition, a transaction aborted under contention) becomes one line instead of a
 * ~35-line Java stack trace. Every other line passes unchanged, in order.
 */
export function summariseExpectedFailures(log: (line: string) => void): (line: string) => void {
  let header: string | undefined;
  // Inside a summarised record: "message" until its stack frames start, then "frames".
  let skipping: "message" | "frames" | undefined;
  return (line) => {
    if (skipping !== undefined) {
      if (traceLine.test(line)) {
        skipping = "frames";
        return;
      }
      // A message may run over several lines (and blank ones) before its frames.
      if (skipping === "message" && !recordHeader.test(line)) return;
      if (skipping === "frames" && line === "") return;
      skipping = undefined;
    }
    if (header !== undefined) {
      const held = header;
      header = undefined;
      const failed = operationFailed.exec(line);
      const outcome = failed && expectedOutcomes.find(([pattern]) => pattern.test(failed[1] ?? ""));
      if (failed && outcome) {
        log(`${outcome[1]} (a normal outcome, stack trace left out): ${failed[1]}`);
        skipping = "message";
        return;
      }
      log(held);
    }
    if (recordHeader.test(line)) {
      header = line;
      return;
    }
    log(line);
  };
}
