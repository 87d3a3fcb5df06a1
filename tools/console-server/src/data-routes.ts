import { FieldPath, type Firestore } from "@google-cloud/firestore";
import {
  type AccessRules,
  AppError,
  collectionNames,
  firestoreIdProblem,
  firestoreJson,
  withDeadline,
} from "@syncstack/shared";
import type { Express, RequestHandler } from "express";
import { z } from "zod";
import { parseQuery } from "./parse.ts";

const owned = collectionNames();

const documentsQuery = z.strictObject({
  limit: z.coerce
    .number({ error: "limit must be a number" })
    .int("limit must be an integer")
    .min(1, "limit must be at least 1")
    .max(500, "limit must be at most 500")
    .default(50),
  after: z.string().min(1, "after must be a document id").max(1_500).optional(),
});

/**
 * The app collections: those the access rules name and every other root collection that is
 * not syncstack's own (the collections registry), in name order.
 */
export async function appCollections(db: Firestore, rules: AccessRules | undefined) {
  const roots = (await db.listCollections()).map((collection) => collection.id);
  const names = new Set([...(rules?.named().keys() ?? []), ...roots]);
  return [...names].filter((name) => !owned.has(name) && !name.startsWith("_")).sort();
}

/**
 * `GET /v1/console/collections` (each app collection with its policy, documents and
 * tombstones) and `GET /v1/console/collections/{name}/documents?limit=&after=` (a page of
 * documents in id order, with version, creator and tombstone): read-only.
 */
export function dataRoutes(
  app: Express,
  admin: RequestHandler[],
  db: Firestore,
  rules: AccessRules | undefined,
  deadlineMs: number,
): void {
  app.get("/v1/console/collections", ...admin, async (request, response) => {
    parseQuery(z.strictObject({}), request.query);
    const names = await withDeadline("firestore.collections.list", deadlineMs, () =>
      appCollections(db, rules),
    );
    const counted = await withDeadline("firestore.collections.count", deadlineMs, () =>
      Promise.all(
        names.map(async (name) => {
          const collection = db.collection(name);
          const [all, tombstones] = await Promise.all([
            collection.count().get(),
            collection.where("deleted", "==", true).count().get(),
          ]);
          return {
            name,
            policy: (rules?.policyOf(name) ?? { policy: "owner" }).policy,
            documents: all.data().count,
            tombstones: tombstones.data().count,
          };
        }),
      ),
    );
    response.json({ collections: counted });
  });

  app.get("/v1/console/collections/:name/documents", ...admin, async (request, response) => {
    const name = String(request.params.name);
    const problem = firestoreIdProblem(name, "the collection name");
    if (problem) throw new AppError("invalid_argument", problem);
    if (owned.has(name) || name.startsWith("_")) {
      throw new AppError(
        "not_found",
        `${name} is syncstack's own collection, not an app collection`,
      );
    }
    const query = parseQuery(documentsQuery, request.query);
    let page = db
      .collection(name)
      .orderBy(FieldPath.documentId())
      .limit(query.limit + 1);
    if (query.after !== undefined) page = page.startAfter(query.after);
    const snapshot = await withDeadline("firestore.documents.list", deadlineMs, () => page.get());
    const documents = snapshot.docs.slice(0, query.limit).map((document) => {
      const fields = document.data();
      return {
        id: document.id,
        version: typeof fields.version === "number" ? fields.version : null,
        created_by: typeof fields.created_by === "string" ? fields.created_by : null,
        deleted: fields.deleted === true,
        deleted_at: firestoreJson(fields.deleted_at ?? null),
        updated_at: firestoreJson(fields.updated_at ?? null),
        sync_source: typeof fields.sync_source === "string" ? fields.sync_source : null,
        data: firestoreJson(fields.data ?? null),
      };
    });
    response.json({
      collection: name,
      documents,
      next_after: snapshot.size > query.limit ? documents.at(-1)?.id : null,
    });
  });
}
