import { createHash } from "node:crypto";
import {
  type DocumentSnapshot,
  FieldPath,
  FieldValue,
  type Firestore,
  Timestamp,
} from "@google-cloud/firestore";
import { AppError, withDeadline } from "@syncstack/shared";
import { leafPaths } from "./field-paths.ts";
import type { Outbox, PendingEvent } from "./outbox.ts";
import type { Change } from "./validation.ts";

/** Internal collection of answered idempotent requests. */
export const idempotencyCollection = "_idempotency";

const FAILED_PRECONDITION = 9;
const ALREADY_EXISTS = 6;
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
  idempotency?: { key: string; requestHash: string } | undefined;
}

/** A stored first answer given again for a retried idempotent request. */
export interface ReplayedResult {
  replayed: true;
  status: number;
  body: unknown;
}

export interface WriterDeps {
  firestore: Firestore;
  outbox: Outbox;
  deadlineMs: number;
}

/** Stable hash of a request body, to tell a retry from a different request under the same key. */
export function requestHash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

/**
 * Applies one change: reads the document (and the idempotency record) in one call, then
 * commits the deep-merged document with the next version, its outbox entry and the
 * idempotency record in one write batch with a precondition on the document's update time.
 * A concurrent writer makes the precondition fail and the change is retried on the new
 * state; no transaction holds a lock. One commit per request; the event is published
 * after the commit.
 */
export async function writeDocument(
  deps: WriterDeps,
  change: Change,
  options: WriteOptions,
): Promise<SyncResult | ReplayedResult> {
  const { firestore: db } = deps;
  const docRef = db.collection(change.collection).doc(change.document);
  const idemRef = options.idempotency
    ? db.collection(idempotencyCollection).doc(requestHash([options.uid, options.idempotency.key]))
    : undefined;

  for (let attempt = 1; ; attempt++) {
    const [current, seen] = await withDeadline("firestore.getAll sync", deps.deadlineMs, () =>
      idemRef ? db.getAll(docRef, idemRef) : db.getAll(docRef),
    );
    if (seen?.exists) return replay(seen, options);
    if (!current) throw new AppError("internal", "document read returned nothing");

    const currentVersion = current.exists ? Number(current.get("version") ?? 0) : 0;
    if (options.expectedVersion !== undefined && options.expectedVersion !== currentVersion) {
      throw new AppError(
        "conflict",
        `expected version ${options.expectedVersion} but the document is at version ${currentVersion}`,
        {
          details: { current_version: currentVersion },
          retryable: false,
        },
      );
    }
    const op = current.exists ? ("update" as const) : ("create" as const);
    const event: PendingEvent = {
      collection: change.collection,
      document: change.document,
      op,
      version: currentVersion + 1,
      source: change.source ?? "unknown",
      uid: options.uid,
    };

    const batch = db.batch();
    if (current.exists && current.updateTime) {
      const fields: unknown[] = [];
      for (const [path, value] of leafPaths(change.data, ["data"])) fields.push(path, value);
      fields.push(new FieldPath("version"), event.version);
      fields.push(new FieldPath("sync_source"), event.source);
      fields.push(new FieldPath("updated_at"), FieldValue.serverTimestamp());
      const [first, firstValue, ...rest] = fields as [FieldPath, unknown, ...unknown[]];
      batch.update(docRef, first, firstValue, ...rest, { lastUpdateTime: current.updateTime });
    } else {
      batch.create(docRef, {
        data: change.data,
        version: event.version,
        sync_source: event.source,
        created_at: FieldValue.serverTimestamp(),
        updated_at: FieldValue.serverTimestamp(),
      });
    }
    const entry = deps.outbox.add(batch, event);
    const pending: Omit<SyncResult, "updated_at"> = {
      success: true,
      message: "Data synchronized successfully",
      collection: change.collection,
      document: change.document,
      op,
      version: event.version,
    };
    if (idemRef && options.idempotency) {
      batch.create(idemRef, {
        request_hash: options.idempotency.requestHash,
        status: 200,
        body: pending,
        created_at: FieldValue.serverTimestamp(),
        expire_at: Timestamp.fromMillis(Date.now() + 86_400_000),
      });
    }

    try {
      const [written] = await withDeadline("firestore.commit sync", deps.deadlineMs, () =>
        batch.commit(),
      );
      const committedAt = written?.writeTime ?? Timestamp.now();
      deps.outbox.published(entry, event, committedAt);
      return { ...pending, updated_at: committedAt.toDate().toISOString() };
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code !== FAILED_PRECONDITION && code !== ALREADY_EXISTS) throw asUnavailable(error);
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

function replay(snapshot: DocumentSnapshot, options: WriteOptions): ReplayedResult {
  const record = snapshot.data() ?? {};
  if (record.request_hash !== options.idempotency?.requestHash) {
    throw new AppError(
      "unprocessable",
      "this Idempotency-Key was already used for a different request",
    );
  }
  // The record committed with the write, so its commit time is the first answer's updated_at.
  const updatedAt = (snapshot.createTime ?? Timestamp.now()).toDate().toISOString();
  return {
    replayed: true,
    status: Number(record.status),
    body: { ...record.body, updated_at: updatedAt },
  };
}

function asUnavailable(error: unknown): unknown {
  if (error instanceof AppError) return error;
  return new AppError("unavailable", "the database did not accept the write; retry", {
    cause: error,
  });
}
