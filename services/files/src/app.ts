import type { ServiceContext, ServiceDefinition } from "@syncstack/shared";
import type { FilesConfig } from "./config.ts";

/** The files service: Records uploaded files and makes thumbnails. */
export function filesService(_context: ServiceContext<FilesConfig>): ServiceDefinition {
  return { consumers: [] };
}
