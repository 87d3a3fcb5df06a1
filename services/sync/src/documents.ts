import type { DocumentSnapshot, Firestore } from "@google-cloud/firestore";
import {
  type AccessRules,
  AppError,
  callerOf,
  decide,
  firestoreIdProblem,
  firestoreJson,
  notFound,
  refusal,
  storedMembers,
  userOf,
  withDeadline,
} from "@syncstack/shared";
import type { Request, RequestHandler } from "express";
import { requestHash } from "./idempotency-record.ts";
import { expectedVersionOf, idempotencyKeyOf, sendWriteResult } from "./sync-document.ts";
import { assertNoQuery, assertWritable, dataProblem } from "./validation.ts";
import type { DocumentWriter } from "./write-document.ts";

/** The collection of profiles: readable through the documents path by their own user. */
const usersCollection = "users";

/** The document a `/v1/documents/{collection}/{document}` path names, checked like a body's ids. */
function addressOf(request: Request): { collection: string; document: string } {
  const { collection, document } = request.params as { collection: string; document: string };
  for (const [id, what] of [
    [collection, "collection"],
    [document, "document"],
  ] as const) {
    const problem = firestoreIdProblem(id, what);
    if (problem) throw new AppError("invalid_argument", problem);
  }
  return { collection, document };
}

/** True when an `If-None-Match` header names `etag` (or is `*`). */
function matchesNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === etag);
}

/**
 * `GET /v1/documents/{collection}/{document}`: one document with a strong `ETag: "<version>"`
 * (`If-None-Match` answers 304). A document that does not exist, was deleted, or that the
 * caller may not read is the same 404. The caller's own profile is `users/{uid}`.
 */
export function getDocument(db: Firestore, rules: AccessRules, deadlineMs: number): RequestHandler {
  return async (request, response) => {
    assertNoQuery(request.query);
    const { collection, document } = addressOf(request);
    const caller = callerOf(userOf(request));
    if (collection === usersCollection) {
      if (document !== caller.uid && !caller.admin) throw notFound(collection, document);
      const profile = await read(db, collection, document, deadlineMs);
      if (!profile.exists) throw notFound(collection, document);
      response.json({ collection, document, data: firestoreJson(profile.data()) });
      return;
    }
    assertWritable(collection);
    const policy = rules.policyOf(collection);
    if (policy.policy === "admin-only" && !caller.admin) {
      throw refusal("forbidden", collection, document, "read", policy);
    }
    const snapshot = await read(db, collection, document, deadlineMs);
    if (!snapshot.exists || snapshot.get("deleted") === true) throw notFound(collection, document);
    const data = snapshot.get("data") as Record<string, unknown> | undefined;
    const members = storedMembers(policy, data);
    const createdBy = snapshot.get("created_by") as string | undefined;
    const decision = decide(policy, caller, { createdBy, members }, "read");
    if (decision !== "allow") throw refusal(decision, collection, document, "read", policy);
    const version = Number(snapshot.get("version") ?? 0);
    const etag = `"${version}"`;
    response.set("ETag", etag);
    if (matchesNoneMatch(request.headers["if-none-match"], etag)) {
      response.status(304).end();
      return;
    }
    response.json({
      collection,
      document,
      data: firestoreJson(data ?? {}),
      version,
      created_by: createdBy ?? null,
      sync_source: snapshot.get("sync_source") ?? null,
      created_at: firestoreJson(snapshot.get("created_at")),
      updated_at: firestoreJson(snapshot.get("updated_at")),
    });
  };
}

function read(
  db: Firestore,
  collection: string,
  document: string,
  deadlineMs: number,
): Promise<DocumentSnapshot> {
  return withDeadline("firestore.get document", deadlineMs, () =>
    db.collection(collection).doc(document).get(),
  );
}

/** The content type RFC 7396 registers for merge patches. */
const mergePatchType = "application/merge-patch+json";

/**
 * `PATCH /v1/documents/{collection}/{document}` with `application/merge-patch+json`: applies
 * the body to the document's data by RFC 7396 (a null removes a member), creating the
 * document when there is none; `If-Match` and `Idempotency-Key` as for `POST /v1/sync`.
 */
export function patchDocument(writer: DocumentWriter): RequestHandler {
  return async (request, response) => {
    assertNoQuery(request.query);
    const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== mergePatchType) {
      throw new AppError(
        "unsupported_media_type",
        `PATCH takes a JSON merge patch (RFC 7396): send content-type ${mergePatchType}`,
      );
    }
    const { collection, document } = addressOf(request);
    assertWritable(collection);
    const patch: unknown = request.body;
    if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
      throw new AppError(
        "invalid_argument",
        "the merge patch must be a JSON object (a document's data is a map)",
      );
    }
    const problem = dataProblem(patch);
    if (problem) throw new AppError("invalid_argument", problem.replace(/^data/, "the patch"));
    const key = idempotencyKeyOf(request);
    const result = await writer.write(
      { kind: "merge-patch", collection, document, patch: patch as Record<string, unknown> },
      {
        caller: callerOf(userOf(request)),
        expectedVersion: expectedVersionOf(request, undefined),
        idempotency: key
          ? { key, requestHash: requestHash(["PATCH", collection, document, patch]) }
          : undefined,
      },
    );
    sendWriteResult(response, result);
  };
}

/**
 * `DELETE /v1/documents/{collection}/{document}`: replaces the document with a tombstone the
 * change feed reports (`deleted: true`, the next version) until its retention ends;
 * `If-Match` and `Idempotency-Key` as for writes. A missing or deleted document is 404.
 */
export function deleteDocument(writer: DocumentWriter): RequestHandler {
  return async (request, response) => {
    assertNoQuery(request.query);
    const { collection, document } = addressOf(request);
    assertWritable(collection);
    const body = request.body as unknown;
    if (
      body !== undefined &&
      !(typeof body === "object" && body && Object.keys(body).length === 0)
    ) {
      throw new AppError("invalid_argument", "DELETE takes no body");
    }
    const key = idempotencyKeyOf(request);
    const result = await writer.write(
      { kind: "delete", collection, document },
      {
        caller: callerOf(userOf(request)),
        expectedVersion: expectedVersionOf(request, undefined),
        idempotency: key
          ? { key, requestHash: requestHash(["DELETE", collection, document]) }
          : undefined,
      },
    );
    sendWriteResult(response, result);
  };
}
