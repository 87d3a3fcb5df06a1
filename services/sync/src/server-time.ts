import { Timestamp, type WriteBatch } from "@google-cloud/firestore";
import { grpcStatus } from "@syncstack/shared";

/** What a commit tells beyond `WriteBatch.commit()`'s write times. */
export interface CommitTimes {
  /** The commit time: every written document's update time, the precondition of its next write. */
  writeTime: Timestamp;
  /**
   * The value the commit's `serverTimestamp()` fields got, as stored. Firestore sets them to the
   * time it processed the request, which is not the commit time (the emulator stored values
   * 50-170 ms earlier, and at millisecond precision), so an answer that reports a stored
   * `updated_at` must take it from here; undefined when no field of the commit used one.
   */
  serverTime: Timestamp | undefined;
}

interface TimestampProto {
  seconds?: string | number | null;
  nanos?: number | null;
}
interface CommitResponse {
  commitTime?: TimestampProto | null;
  writeResults?: {
    updateTime?: TimestampProto | null;
    transformResults?: { timestampValue?: TimestampProto | null }[] | null;
  }[];
}
interface BatchInternals {
  _commit(options: { retryCodes: number[] }): Promise<CommitResponse>;
}

const fromProto = (proto: TimestampProto): Timestamp =>
  new Timestamp(Number(proto.seconds ?? 0), proto.nanos ?? 0);

/**
 * Commits `batch` and returns its commit time and the stored server time. The Node client's
 * public `commit()` drops the transform results the Commit RPC returns, so this goes through
 * the batch's `_commit`, which `commit()` itself calls, with the same ABORTED retry; a client
 * version without it fails here loudly (and the write path's tests with it), never quietly.
 */
export async function commitWithServerTime(batch: WriteBatch): Promise<CommitTimes> {
  const internals = batch as unknown as Partial<BatchInternals>;
  if (typeof internals._commit !== "function") {
    throw new Error(
      "this @google-cloud/firestore version has no WriteBatch._commit to read server times from",
    );
  }
  const response = await internals._commit({ retryCodes: [grpcStatus.ABORTED] });
  const first = response.writeResults?.[0];
  const commitTime = first?.updateTime ?? response.commitTime;
  if (!commitTime) throw new Error("a commit returned no write results");
  let serverTime: Timestamp | undefined;
  for (const result of response.writeResults ?? []) {
    const value = result.transformResults?.find((item) => item.timestampValue)?.timestampValue;
    if (value) {
      serverTime = fromProto(value);
      break;
    }
  }
  return { writeTime: fromProto(commitTime), serverTime };
}
