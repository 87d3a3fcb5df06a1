import {
  type DocumentReference,
  type DocumentSnapshot,
  FieldPath,
  FieldValue,
  type Firestore,
  Timestamp,
  type WriteBatch,
} from "@google-cloud/firestore";
import {
  AccessRules,
  type Action,
  AppError,
  type Caller,
  type Clock,
  type Decision,
  decide,
  grpcCodeOf,
  mayCreate,
  membersIn,
  notFound,
  type Ownership,
  preconditionFailures,
  readersOf,
  refusal,
  storedMembers,
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
import { applyMergePatch } from "./merge-patch.ts";
import type { Outbox, PendingEvent } from "./outbox.ts";
import { type Change, dataProblem } from "./validation.ts";

const maxAttempts = 8;

/** What the ingress answers for one applied change. */
export interface SyncResult {
  success: true;
  message: "Data synchronized successfully" | "Document deleted";
  collection: string;
  document: string;
  op: "create" | "update" | "delete";
  version: number;
  /** Present on a delete: the document is now a tombstone. */
  deleted?: true;
  updated_at: string;
}

/**
 * One write: `merge` deep-merges a change (`POST /v1/sync`, the seed contract), `merge-patch`
 * applies an RFC 7396 patch to the document's data (`PATCH`), `delete` leaves a tombstone.
 */
export type WriteRequest =
  | { kind: "merge"; change: Change }
  | {
      kind: "merge-patch";
      collection: string;
      document: string;
      patch: Record<string, unknown>;
    }
  | { kind: "delete"; collection: string; document: string };

export interface WriteOptions {
  caller: Caller;
  /** A write that would not produce exactly `expectedVersion + 1` fails with 409. */
  expectedVersion?: number | undefined;
  /** Idempotency-Key with a hash of the request it was first used for. */
  idempotency?: IdempotencyKey | undefined;
}

export interface DocumentWriterOptions {
  deadlineMs: number;
  /** Where each commit's events go; the group commit is what enters it. */
  outbox: Pick<Outbox, "add" | "committed">;
  /** Who may write what (docs/access-rules.md); every collection is owner-only by default. */
  rules?: AccessRules;
  /** How long a tombstone is kept (its TTL field's offset). */
  tombstoneRetentionMs?: number;
  /** Dates the idempotency records' and tombstones' expiry. */
  now?: Clock;
}

/** A document's state as read: what the rules and a merge patch need too. */
type ReadState = KnownState & { read: true; data?: Record<string, unknown> };

/** What a commit writes, decided from the state and the rules. */
interface Plan {
  op: SyncResult["op"];
  ownership: Ownership;
  /** The document's whole data after a merge patch or a re-creation; undefined for a merge or delete. */
  data?: Record<string, unknown>;
}

/**
 * Applies changes with at most one commit each (concurrent ones share commits) and no
 * transaction: the written document with the
 * next version, its event's outbox entry and the idempotency record go in one write batch whose
 * precondition is the state the version was computed from (the document does not exist, or
 * it was last updated at a known time). That state comes from what this instance last wrote,
 * or is guessed absent for a document it has not seen; only when the precondition fails is
 * the document read (with the idempotency record, in one call) and the change retried. A
 * concurrent writer thus costs a retry, never a lock. The access rules are checked against
 * that same state: the creator and members this instance wrote are as good as read, since
 * the precondition fails if they changed, so the check adds no read to a write. A merge patch
 * and a delete read the document first (they need its data, or its existence). The event is
 * published after commit, without the answer waiting for it (the group commit hands it to
 * the outbox).
 */
export class DocumentWriter {
  readonly #db: Firestore;
  readonly #deadlineMs: number;
  readonly #now: Clock;
  readonly #rules: AccessRules;
  readonly #tombstoneRetentionMs: number;
  readonly #known = new KnownVersions(50_000);
  readonly #commits: GroupCommit;

  constructor(db: Firestore, options: DocumentWriterOptions) {
    this.#db = db;
    this.#deadlineMs = options.deadlineMs;
    this.#now = options.now ?? systemClock;
    this.#rules = options.rules ?? new AccessRules();
    this.#tombstoneRetentionMs = options.tombstoneRetentionMs ?? 30 * 86_400_000;
    this.#commits = new GroupCommit(db, {
      deadlineMs: options.deadlineMs,
      outbox: options.outbox,
    });
  }

  /** Writes one change; resolves with the answer, or the stored one for a replayed request. */
  async write(request: WriteRequest, options: WriteOptions): Promise<SyncResult | ReplayedResult> {
    const { collection, document } = request.kind === "merge" ? request.change : request;
    const docRef = this.#db.collection(collection).doc(document);
    const idemRef = options.idempotency
      ? idempotencyRecordOf(this.#db, options.caller.uid, options.idempotency.key)
      : undefined;
    const remembered = this.#known.get(docRef.path) ?? { version: 0 };
    // A guess is only trusted where being wrong costs a failed commit, not a wrong answer;
    // a merge patch needs the data and a delete the document, so both read.
    let state: KnownState | ReadState | undefined =
      request.kind === "merge" &&
      (options.expectedVersion === undefined || options.expectedVersion === remembered.version)
        ? remembered
        : undefined;

    for (let attempt = 1; ; attempt++) {
      if (!state) {
        const read = await this.#read(docRef, idemRef, collection);
        if (read.replay) return replay(read.replay, options.idempotency?.requestHash);
        state = read.state;
        if (options.expectedVersion !== undefined && options.expectedVersion !== state.version) {
          // Only a caller that may read the document learns its version.
          this.#plan(request, state, options.caller);
          throw new AppError(
            "conflict",
            `expected version ${options.expectedVersion} but the document is at version ${state.version}`,
            { details: { current_version: state.version }, retryable: false },
          );
        }
      }
      const plan = this.#plan(request, state, options.caller);
      try {
        return await this.#commit(docRef, idemRef, request, plan, options, state);
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

  /** Decides what the request writes in `state`, or throws the rules' refusal (404 or 403). */
  #plan(request: WriteRequest, state: KnownState | ReadState, caller: Caller): Plan {
    const { collection, document } = request.kind === "merge" ? request.change : request;
    const policy = this.#rules.policyOf(collection);
    const exists = state.updateTime !== undefined;
    const current: Ownership = {
      createdBy: state.createdBy,
      members: state.members ?? [],
    };
    const refuse = (decision: Decision, action: Action) => {
      if (decision !== "allow") throw refusal(decision, collection, document, action, policy);
    };
    // A closed collection answers the same whether the document exists or not.
    if (policy.policy === "admin-only" && !caller.admin) refuse("forbidden", "write");
    if (request.kind === "delete") {
      if (!exists) throw notFound(collection, document);
      refuse(decide(policy, caller, current, "delete"), "delete");
      if (state.deleted) throw notFound(collection, document);
      return { op: "delete", ownership: current };
    }
    if (exists) refuse(decide(policy, caller, current, "write"), "write");
    else if (!mayCreate(policy, caller)) refuse("forbidden", "write");

    const data =
      request.kind === "merge-patch"
        ? (applyMergePatch(
            state.deleted ? {} : (("data" in state ? state.data : undefined) ?? {}),
            request.patch,
          ) as Record<string, unknown>)
        : state.deleted
          ? request.change.data
          : undefined;
    if (request.kind === "merge-patch" && data !== undefined) {
      const problem = dataProblem(data);
      if (problem) throw new AppError("invalid_argument", `after the patch, ${problem}`);
    }
    let members = current.members;
    if (data !== undefined) members = membersIn(policy, data);
    else if (request.kind === "merge" && policy.policy === "members") {
      if (policy.members_field in request.change.data)
        members = membersIn(policy, request.change.data);
    }
    const createdBy = exists ? current.createdBy : caller.uid;
    if (exists && !sameMembers(members, current.members)) {
      refuse(decide(policy, caller, current, "change-members"), "change-members");
    }
    const op = exists && !state.deleted ? "update" : "create";
    return {
      op,
      ownership: { createdBy, members },
      ...(data !== undefined ? { data } : {}),
    };
  }

  async #read(
    docRef: DocumentReference,
    idemRef: DocumentReference | undefined,
    collection: string,
  ): Promise<{ state: ReadState; replay?: DocumentSnapshot }> {
    const [current, seen] = await withDeadline("firestore.getAll sync", this.#deadlineMs, () =>
      idemRef ? this.#db.getAll(docRef, idemRef) : this.#db.getAll(docRef),
    );
    if (seen?.exists) return { state: { version: 0, read: true }, replay: seen };
    if (!current?.exists || !current.updateTime) return { state: { version: 0, read: true } };
    const policy = this.#rules.policyOf(collection);
    const data = current.get("data") as Record<string, unknown> | undefined;
    const members = storedMembers(policy, data);
    const deleted = current.get("deleted") === true;
    return {
      state: {
        version: Number(current.get("version") ?? 0),
        updateTime: current.updateTime,
        createdBy: (current.get("created_by") as string | undefined) ?? undefined,
        members,
        ...(deleted ? { deleted } : {}),
        ...(data !== undefined ? { data } : {}),
        read: true,
      },
    };
  }

  async #commit(
    docRef: DocumentReference,
    idemRef: DocumentReference | undefined,
    request: WriteRequest,
    plan: Plan,
    options: WriteOptions,
    state: KnownState,
  ): Promise<SyncResult> {
    const { collection, document } = request.kind === "merge" ? request.change : request;
    const source = (request.kind === "merge" ? request.change.source : undefined) ?? "unknown";
    const event: PendingEvent = {
      collection,
      document,
      op: plan.op,
      version: state.version + 1,
      source,
      uid: options.caller.uid,
      ...(plan.ownership.createdBy !== undefined ? { created_by: plan.ownership.createdBy } : {}),
    };
    const pending: Omit<SyncResult, "updated_at"> = {
      success: true,
      message: plan.op === "delete" ? "Document deleted" : "Data synchronized successfully",
      collection,
      document,
      op: plan.op,
      version: event.version,
      ...(plan.op === "delete" ? { deleted: true as const } : {}),
    };
    const readers = Object.fromEntries(
      readersOf(plan.ownership).map((uid) => [uid, FieldValue.serverTimestamp()]),
    );
    const add = (batch: WriteBatch) => {
      if (state.updateTime) {
        const fields: unknown[] = [];
        if (plan.op === "delete") {
          fields.push(new FieldPath("data"), FieldValue.delete());
          fields.push(new FieldPath("deleted"), true);
          fields.push(new FieldPath("deleted_at"), FieldValue.serverTimestamp());
          fields.push(
            new FieldPath("expire_at"),
            Timestamp.fromMillis(this.#now() + this.#tombstoneRetentionMs),
          );
        } else if (plan.data !== undefined) {
          fields.push(new FieldPath("data"), plan.data);
        } else if (request.kind === "merge") {
          for (const [path, value] of leafPaths(request.change.data, ["data"]))
            fields.push(path, value);
        }
        if (state.deleted && plan.op === "create") {
          fields.push(new FieldPath("deleted"), FieldValue.delete());
          fields.push(new FieldPath("deleted_at"), FieldValue.delete());
          fields.push(new FieldPath("expire_at"), FieldValue.delete());
          fields.push(new FieldPath("created_at"), FieldValue.serverTimestamp());
        }
        fields.push(new FieldPath("version"), event.version);
        fields.push(new FieldPath("sync_source"), event.source);
        fields.push(new FieldPath("updated_at"), FieldValue.serverTimestamp());
        fields.push(new FieldPath("readers"), readers);
        const [first, firstValue, ...rest] = fields as [FieldPath, unknown, ...unknown[]];
        batch.update(docRef, first, firstValue, ...rest, { lastUpdateTime: state.updateTime });
      } else {
        batch.create(docRef, {
          data: plan.data ?? (request.kind === "merge" ? request.change.data : {}),
          version: event.version,
          sync_source: event.source,
          created_by: plan.ownership.createdBy,
          readers,
          created_at: FieldValue.serverTimestamp(),
          updated_at: FieldValue.serverTimestamp(),
        });
      }
      if (idemRef && options.idempotency) {
        addIdempotencyRecord(batch, idemRef, options.idempotency.requestHash, pending, this.#now());
      }
    };
    const {
      writeTime: committedAt,
      serverTime,
      handedOver,
    } = await this.#commits.commit(docRef.path, idemRef ? 2 : 1, add, event);
    this.#known.set(docRef.path, {
      version: event.version,
      updateTime: committedAt,
      ...(plan.ownership.createdBy !== undefined ? { createdBy: plan.ownership.createdBy } : {}),
      members: plan.ownership.members,
      ...(plan.op === "delete" ? { deleted: true } : {}),
    });
    await handedOver;
    // The stored updated_at, which is not the commit time (server-time.ts).
    return { ...pending, updated_at: serverTime.toDate().toISOString() };
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(b);
  return a.every((uid) => set.has(uid));
}

/** A write the database did not take, or did not answer in time, is a 503 the client retries. */
function asUnavailable(error: unknown): unknown {
  if (error instanceof AppError && error.code !== "deadline_exceeded") return error;
  return new AppError("unavailable", "the database did not accept the write; retry", {
    cause: error,
  });
}
