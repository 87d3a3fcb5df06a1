import {
  type DocumentReference,
  type DocumentSnapshot,
  FieldPath,
  FieldValue,
  type Firestore,
  type WriteBatch,
} from "@google-cloud/firestore";
import {
  AppError,
  type Clock,
  grpcCodeOf,
  preconditionFailures,
  systemClock,
  withDeadline,
} from "@syncstack/shared";
import { leafPaths } from "./field-paths.ts";
import { GroupCommit } from "./group-commit.ts";
import {
  addIdempotencyRecord,
  type IdempotencyKey,
  idempotencyRecordOf,
  type ReplayedResult,
  replay,
} from "./idempotency-record.ts";
import { type KnownState, KnownVersions } from "./known-versions.ts";
import type { Outbox, PendingEvent } from "./outbox.ts";
import type { Change } from "./validation.ts";

const maxAttempts = 8;

/** What the ingress answers for one applied change. */
export interface SyncResult {
  success: true;
  message: "Data synchronized successfully";
  collection: string;
  document: string;
  op: "create" | "update";
  version: number;
  updated_at: string;
}

export interface WriteOptions {
  uid: string;
  /** A write that would not produce exactly `expectedVersion + 1` fails with 409. */
  expectedVersion?: number | undefined;
  /** Idempotency-Key with a hash of the request it was first used for. */
  idempotency?: IdempotencyKey | undefined;
}

export interface DocumentWriterOptions {
  deadlineMs: number;
  /** Where each commit's events go; the group commit is what enters it. */
  outbox: Pick<Outbox, "add" | "committed">;
  /** Dates the idempotency records' expiry. */
  now?: Clock;
}

/**
 * Applies changes with at most one commit each (concurrent ones share commits) and no
 * transaction: the deep-merged document with the
 * next version, its event's outbox entry and the idempotency record go in one write batch whose
 * precondition is the state the version was computed from (the document does not exist, or
 * it was last updated at a known time). That state comes from what this instance last wrote,
 * or is guessed absent for a document it has not seen; only when the precondition fails is
 * the document read (with the idempotency record, in one call) and the change retried. A
 * concurrent writer thus costs a retry, never a lock. The event is published after commit,
 * without the answer waiting for it (the group commit hands it to the outbox).
 */
export class DocumentWriter {
  readonly #db: Firestore;
  readonly #deadlineMs: number;
  readonly #now: Clock;
  readonly #known = new KnownVersions(50_000);
  readonly #commits: GroupCommit;

  constructor(db: Firestore, options: DocumentWriterOptions) {
    this.#db = db;
    this.#deadlineMs = options.deadlineMs;
    this.#now = options.now ?? systemClock;
    this.#commits = new GroupCommit(db, {
      deadlineMs: options.deadlineMs,
      outbox: options.outbox,
    });
  }

  /** Writes one change; resolves with the answer, or the stored one for a replayed request. */
  async write(change: Change, options: WriteOptions): Promise<SyncResult | ReplayedResult> {
    const docRef = this.#db.collection(change.collection).doc(change.document);
    const idemRef = options.idempotency
      ? idempotencyRecordOf(this.#db, options.uid, options.idempotency.key)
      : undefined;
    const remembered = this.#known.get(docRef.path) ?? { version: 0 };
    // A guess is only trusted where being wrong costs a failed commit, not a wrong answer.
    let state: KnownState | undefined =
      options.expectedVersion === undefined || options.expectedVersion === remembered.version
        ? remembered
        : undefined;

    for (let attempt = 1; ; attempt++) {
      if (!state) {
        const read = await this.#read(docRef, idemRef);
        if (read.replay) return replay(read.replay, options.idempotency?.requestHash);
        state = read.state;
        if (options.expectedVersion !== undefined && options.expectedVersion !== state.version) {
          throw new AppError(
            "conflict",
            `expected version ${options.expectedVersion} but the document is at version ${state.version}`,
            { details: { current_version: state.version }, retryable: false },
          );
        }
      }
      try {
        return await this.#commit(docRef, idemRef, change, options, state);
      } catch (error) {
        const code = grpcCodeOf(error);
        if (code === undefined || !preconditionFailures.has(code)) throw asUnavailable(error);
        this.#known.delete(docRef.path);
        const guessed = state !== undefined && attempt === 1 && !("read" in state);
        state = undefined;
        if (guessed) continue;
        if (attempt >= maxAttempts) {
          throw new AppError(
            "unavailable",
            "the document is being written by others at the same time; retry",
            {
              cause: error,
            },
          );
        }
        await new Promise((resolve) =>
          setTimeout(resolve, Math.random() * 10 * 2 ** Math.min(attempt, 5)),
        );
      }
    }
  }

  async #read(
    docRef: DocumentReference,
    idemRef: DocumentReference | undefined,
  ): Promise<{ state: KnownState & { read: true }; replay?: DocumentSnapshot }> {
    const [current, seen] = await withDeadline("firestore.getAll sync", this.#deadlineMs, () =>
      idemRef ? this.#db.getAll(docRef, idemRef) : this.#db.getAll(docRef),
    );
    if (seen?.exists) return { state: { version: 0, read: true }, replay: seen };
    if (!current?.exists || !current.updateTime) return { state: { version: 0, read: true } };
    return {
      state: {
        version: Number(current.get("version") ?? 0),
        updateTime: current.updateTime,
        read: true,
      },
    };
  }

  async #commit(
    docRef: DocumentReference,
    idemRef: DocumentReference | undefined,
    change: Change,
    options: WriteOptions,
    state: KnownState,
  ): Promise<SyncResult> {
    const op = state.updateTime ? ("update" as const) : ("create" as const);
    const event: PendingEvent = {
      collection: change.collection,
      document: change.document,
      op,
      version: state.version + 1,
      source: change.source ?? "unknown",
      uid: options.uid,
    };
    const pending: Omit<SyncResult, "updated_at"> = {
      success: true,
      message: "Data synchronized successfully",
      collection: change.collection,
      document: change.document,
      op,
      version: event.version,
    };
    const add = (batch: WriteBatch) => {
      if (state.updateTime) {
        const fields: unknown[] = [];
        for (const [path, value] of leafPaths(change.data, ["data"])) fields.push(path, value);
        fields.push(new FieldPath("version"), event.version);
        fields.push(new FieldPath("sync_source"), event.source);
        fields.push(new FieldPath("updated_at"), FieldValue.serverTimestamp());
        const [first, firstValue, ...rest] = fields as [FieldPath, unknown, ...unknown[]];
        batch.update(docRef, first, firstValue, ...rest, { lastUpdateTime: state.updateTime });
      } else {
        batch.create(docRef, {
          data: change.data,
          version: event.version,
          sync_source: event.source,
          created_at: FieldValue.serverTimestamp(),
          updated_at: FieldValue.serverTimestamp(),
        });
      }
      if (idemRef && options.idempotency) {
        addIdempotencyRecord(batch, idemRef, options.idempotency.requestHash, pending, this.#now());
      }
    };
    const { writeTime: committedAt, handedOver } = await this.#commits.commit(
      docRef.path,
      idemRef ? 2 : 1,
      add,
      event,
    );
    this.#known.set(docRef.path, { version: event.version, updateTime: committedAt });
    await handedOver;
    return { ...pending, updated_at: committedAt.toDate().toISOString() };
  }
}

/** A write the database did not take, or did not answer in time, is a 503 the client retries. */
function asUnavailable(error: unknown): unknown {
  if (error instanceof AppError && error.code !== "deadline_exceeded") return error;
  return new AppError("unavailable", "the database did not accept the write; retry", {
    cause: error,
  });
}
