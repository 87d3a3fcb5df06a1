import { baseEnvSchema, withDefaultPort } from "@syncstack/shared";
import { z } from "zod";

/** The backup service's environment. */
/** Documents a backup reads per query unless BACKUP_PAGE_SIZE says otherwise. */
export const defaultBackupPageSize = 10_000;

export const backupEnvSchema = withDefaultPort(
  baseEnvSchema.extend({
    /** How long a backup's lease lives without renewal: a dead holder blocks no longer. */
    BACKUP_LEASE_MS: z.coerce.number().int().min(1_000).default(60_000),
    /** Deadline of a whole backup; under the subscription's 600 s ack deadline. */
    BACKUP_DEADLINE_MS: z.coerce.number().int().min(1_000).default(540_000),
    /**
     * Documents per RunQuery page; they stream through one at a time, so memory does not grow
     * with it, while every page costs a query (on the emulator, a scan up to its cursor).
     */
    BACKUP_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(defaultBackupPageSize),
    /** The access rules restores compute readers from; sync's access-rules.json by default. */
    ACCESS_RULES_FILE: z.string().min(1).optional(),
  }),
  8083,
);
export type BackupConfig = z.infer<typeof backupEnvSchema>;
