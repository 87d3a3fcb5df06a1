import { type Logger, type Publisher, type TopicSpec, topics } from "@syncstack/shared";
import { type Scheduler, startScheduler } from "./scheduler.ts";

/**
 * Publishes each scheduled topic of the registry at its cron times, as Cloud Scheduler does
 * in production (`stats-tick` every 6 hours, `backup-requested` daily at 02:00 UTC).
 */
export function startTopicScheduler(
  publisher: Publisher,
  logger: Logger,
  registry: readonly TopicSpec[] = topics,
): Scheduler {
  const jobs = registry.flatMap((topic) => {
    const schedule = topic.schedule;
    if (!schedule) return [];
    return [
      {
        name: topic.name,
        cron: schedule.cron,
        timeZone: schedule.timeZone,
        run: async (at: Date) => {
          await publisher.publish(topic, schedule.payload(at));
        },
      },
    ];
  });
  return startScheduler(jobs, {
    log: (entry) => logger[entry.severity === "ERROR" ? "error" : "info"](entry.message, entry),
  });
}
