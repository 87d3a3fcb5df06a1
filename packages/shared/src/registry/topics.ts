import { backupRequested } from "../topics/backup-requested.ts";
import { fileUploaded } from "../topics/file-uploaded.ts";
import { realtimeUpdates } from "../topics/realtime-updates.ts";
import { statsTick } from "../topics/stats-tick.ts";
import type { TopicSpec } from "../topics/topic.ts";
import { userCreated } from "../topics/user-created.ts";

/** Every topic of the system: the local runner provisions from it, deployment renders from it. */
export const topics = [
  realtimeUpdates,
  userCreated,
  fileUploaded,
  backupRequested,
  statsTick,
] as const satisfies readonly TopicSpec[];

/** Finds a topic by name; unknown names are an error that lists the known ones. */
export function topicByName(name: string, registry: readonly TopicSpec[] = topics): TopicSpec {
  const topic = registry.find((candidate) => candidate.name === name);
  if (!topic) {
    throw new Error(
      `unknown topic "${name}"; known topics: ${registry.map((t) => t.name).join(", ")}`,
    );
  }
  return topic;
}
