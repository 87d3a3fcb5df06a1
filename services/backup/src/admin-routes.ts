import {
  AppError,
  describeIssues,
  firestoreIdProblem,
  requireUser,
  type ServiceContext,
  type TokenVerifier,
  userOf,
} from "@syncstack/shared";
import type { Express, Request } from "express";
import { z } from "zod";
import { backupConfigPatchSchema, updateBackupConfig, viewBackupConfig } from "./backup-config.ts";
import type { BackupConfig } from "./config.ts";
import { describeBackup, listBackups } from "./list-backups.ts";
import { requestBackup } from "./request-backup.ts";

const noQuery = z.strictObject({});

function requireAdmin(request: Request, what: string): void {
  if (userOf(request).claims.admin !== true) {
    throw new AppError("permission_denied", `${what} needs an admin token (claim admin: true)`);
  }
  const query = noQuery.safeParse(request.query);
  if (!query.success) {
    throw new AppError("invalid_argument", describeIssues(query.error, "query parameter"));
  }
}

/**
 * The backup service's admin routes (token claim `admin: true`): `GET /v1/backups` lists
 * every backup in records or in the bucket; `POST /v1/backups` requests a manual backup and
 * answers its id; `GET /v1/backups/{id}` its state; `GET`/`PATCH /v1/backups/config` read
 * and change `config/backup`.
 */
export function adminRoutes(
  context: ServiceContext<BackupConfig>,
  verifyToken: TokenVerifier,
): (app: Express) => void {
  const { firestore: db, storage, config } = context;
  const deadlineMs = config.DEADLINE_MS;
  const projectId = config.GOOGLE_CLOUD_PROJECT;
  return (app) => {
    const auth = requireUser(verifyToken);
    app.get("/v1/backups", auth, async (request, response) => {
      requireAdmin(request, "listing backups");
      response.json({ backups: await listBackups({ db, storage, deadlineMs }) });
    });
    app.post("/v1/backups", auth, async (request, response) => {
      requireAdmin(request, "requesting a backup");
      const body = z.strictObject({}).safeParse(request.body ?? {});
      if (!body.success) throw new AppError("invalid_argument", describeIssues(body.error));
      const id = await requestBackup(context.publisher);
      response
        .status(202)
        .location(`/v1/backups/${id}`)
        .json({ id, status: "requested", status_url: `/v1/backups/${id}` });
    });
    app.get("/v1/backups/config", auth, async (request, response) => {
      requireAdmin(request, "reading config/backup");
      const view = await viewBackupConfig(db, projectId, deadlineMs);
      if (!view) {
        throw new AppError(
          "not_found",
          "config/backup does not exist: create it with PATCH /v1/backups/config {enabled, collections}",
        );
      }
      response.json(view);
    });
    app.patch("/v1/backups/config", auth, async (request, response) => {
      requireAdmin(request, "changing config/backup");
      const patch = backupConfigPatchSchema.safeParse(request.body ?? {});
      if (!patch.success) throw new AppError("invalid_argument", describeIssues(patch.error));
      response.json(await updateBackupConfig(db, projectId, patch.data, deadlineMs));
    });
    app.get("/v1/backups/:id", auth, async (request, response) => {
      requireAdmin(request, "reading a backup");
      const backupId = String(request.params.id);
      const idProblem = firestoreIdProblem(backupId, "the backup id");
      if (idProblem) throw new AppError("invalid_argument", idProblem);
      const found = await describeBackup({ db, storage, backupId, deadlineMs });
      if (!found) throw new AppError("not_found", `there is no backup ${backupId}`);
      response.json(found);
    });
  };
}
