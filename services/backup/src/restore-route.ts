import {
  AppError,
  firestoreIdProblem,
  requireUser,
  type ServiceContext,
  type TokenVerifier,
  userOf,
} from "@syncstack/shared";
import type { Express } from "express";
import { z } from "zod";
import { bucketNamePattern } from "./backup-config.ts";
import type { BackupConfig } from "./config.ts";
import { firestoreFor, publisherFor } from "./firestore-client.ts";
import { restoreBackup } from "./restore.ts";
import { restoreAccessRules } from "./rules-file.ts";

const collectionId = z.string().regex(/^[^/]+$/, "must be a collection id");

/** The body of a restore request; an unknown field is refused, so a misspelt dry_run restores nothing. */
export const restoreRequestSchema = z.strictObject({
  collections: z.array(collectionId).min(1).optional(),
  prefix: z
    .string()
    .regex(/^[^/]*$/, "must not contain /")
    .optional(),
  project: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,61}[a-z0-9]$/, "must be a project id")
    .optional(),
  bucket: z.string().regex(bucketNamePattern, "must be a bucket name").optional(),
  dry_run: z.boolean().optional(),
  undelete: z.boolean().optional(),
});

/**
 * `POST /v1/backups/{id}:restore` for admins (token claim `admin: true`): restores a backup
 * as the CLI does and answers its report.
 */
export function restoreRoutes(
  context: ServiceContext<BackupConfig>,
  verifyToken: TokenVerifier,
): (app: Express) => void {
  // Loaded once, failing at start when ACCESS_RULES_FILE names a file that does not load.
  const rules = restoreAccessRules(context.config.ACCESS_RULES_FILE);
  return (app) => {
    const auth = requireUser(verifyToken);
    app.post(/^\/v1\/backups\/([^/:]+):restore$/, auth, async (request, response) => {
      if (userOf(request).claims.admin !== true) {
        throw new AppError("permission_denied", "restoring a backup needs an admin token");
      }
      const parsed = restoreRequestSchema.safeParse(request.body ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new AppError(
          "invalid_argument",
          `${issue?.path.join(".") || "body"}: ${issue?.message}`,
        );
      }
      const backupId = String((request.params as Record<string, string>)[0]);
      const idProblem = firestoreIdProblem(backupId, "the backup id");
      if (idProblem) throw new AppError("invalid_argument", idProblem);
      const body = parsed.data;
      const project = context.config.GOOGLE_CLOUD_PROJECT;
      const elsewhere = body.project !== undefined && body.project !== project;
      const targetDb = elsewhere
        ? firestoreFor(context.config, body.project as string)
        : context.firestore;
      const events = elsewhere
        ? publisherFor(context.config, body.project as string)
        : { publisher: context.publisher, close: async () => {} };
      try {
        const report = await restoreBackup({
          sourceDb: context.firestore,
          targetDb,
          storage: context.storage,
          backupId,
          bucket: body.bucket,
          collections: body.collections,
          prefix: body.prefix,
          dryRun: body.dry_run,
          undelete: body.undelete,
          publisher: events.publisher,
          rules,
          deadlineMs: context.config.DEADLINE_MS,
        });
        response.json(report);
      } finally {
        await events.close();
        if (targetDb !== context.firestore) await targetDb.terminate();
      }
    });
  };
}
