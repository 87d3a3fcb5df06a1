import {
  requireUser,
  type ServiceContext,
  type ServiceDefinition,
  type TokenVerifier,
  tokenVerifierFor,
} from "@syncstack/shared";
import type { FilesConfig } from "./config.ts";
import { getFile } from "./get-file.ts";
import { getThumbnail } from "./get-thumbnail.ts";
import { listFiles } from "./list-files.ts";
import { onFileUploaded } from "./on-file-uploaded.ts";

/**
 * The files service: records uploaded files and makes thumbnails of images, and serves each
 * user their own records and thumbnails (an admin's token reads every one).
 */
export function filesService(
  context: ServiceContext<FilesConfig>,
  verifyToken: TokenVerifier = tokenVerifierFor(context.config),
): ServiceDefinition {
  const { config, firestore, storage } = context;
  return {
    consumers: [onFileUploaded(context)],
    routes: (app) => {
      const user = requireUser(verifyToken);
      app.get("/v1/files", user, listFiles(firestore, config.DEADLINE_MS));
      app.get("/v1/files/:id", user, getFile(firestore, config.DEADLINE_MS));
      app.get(
        "/v1/files/:id/thumbnails/:size",
        user,
        getThumbnail(firestore, storage, {
          bucket: config.THUMBNAILS_BUCKET,
          deadlineMs: config.DEADLINE_MS,
        }),
      );
    },
  };
}

/** The environment the service reads, for tools that build the app in-process. */
export { filesEnvSchema } from "./config.ts";
export { makeThumbnails } from "./make-thumbnails.ts";
