import type { ServiceContext, ServiceDefinition } from "@syncstack/shared";
import type { FilesConfig } from "./config.ts";
import { onFileUploaded } from "./on-file-uploaded.ts";

/** The files service: records uploaded files and makes thumbnails of images. */
export function filesService(context: ServiceContext<FilesConfig>): ServiceDefinition {
  return { consumers: [onFileUploaded(context)] };
}

/** The environment the service reads, for tools that build the app in-process. */
export { filesEnvSchema } from "./config.ts";
export { makeThumbnails } from "./make-thumbnails.ts";
