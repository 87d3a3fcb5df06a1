import { type CronSchedule, cronSchedule } from "./cron.ts";

/** A job run whenever its cron expression (as Cloud Scheduler takes it) matches the wall clock of `timeZone`. */
export type ScheduledJob = {
  name: string;
  cron: string;
  timeZone: string;
  run: (scheduledAt: Date) => Promise<void>;
};

/** A structured log entry: Cloud Logging severity, message and fields. */
export type SchedulerLogEntry = { severity: string; message: string; [field: string]: unknown };

/** What the scheduler needs besides its jobs: a clock (tests fake it) and a log. */
export type SchedulerOptions = {
  clock?: { now(): number };
  log: (entry: SchedulerLogEntry) => void;
};

/** A started scheduler. */
export type Scheduler = {
  /** Cancels every timer; runs in progress finish on their own. */
  stop(): void;
  /** The next run of each job, soonest first. */
  next(): { name: string; at: Date }[];
};

type JobState = {
  job: ScheduledJob;
  cron: CronSchedule;
  at: Date;
  timer?: NodeJS.Timeout;
  running: boolean;
};

// setTimeout fires at once for delays above a signed 32-bit int, so long waits are re-armed.
const maxDelayMs = 2 ** 31 - 1;

/** Runs each job at its cron times; a failed run is logged and the job keeps its schedule. */
export function startScheduler(jobs: readonly ScheduledJob[], opts: SchedulerOptions): Scheduler {
  const clock = opts.clock ?? Date;
  const state = jobs.map((job): JobState => {
    let cron: CronSchedule;
    try {
      cron = cronSchedule(job.cron, job.timeZone);
    } catch (cause) {
      throw new Error(`job ${job.name}: ${(cause as Error).message}`, { cause });
    }
    return { job, cron, at: new Date(0), running: false };
  });
  let stopped = false;

  const arm = (entry: JobState) => {
    if (stopped) return;
    const wait = entry.at.getTime() - clock.now();
    entry.timer = setTimeout(() => fire(entry), Math.min(Math.max(wait, 0), maxDelayMs));
  };

  const schedule = (entry: JobState, after: Date) => {
    entry.at = entry.cron.next(after);
    arm(entry);
  };

  const fire = (entry: JobState) => {
    const scheduledAt = entry.at;
    if (clock.now() < scheduledAt.getTime()) return arm(entry);
    // Runs missed while the process slept are skipped: the next one counts from now.
    schedule(entry, new Date(Math.max(scheduledAt.getTime(), clock.now())));
    const fields = { job: entry.job.name, scheduledAt: scheduledAt.toISOString() };
    if (entry.running) {
      opts.log({
        severity: "WARNING",
        message: `job ${entry.job.name} skipped: its previous run is still going`,
        ...fields,
      });
      return;
    }
    entry.running = true;
    const started = clock.now();
    void runJob(entry.job, scheduledAt).then((error) => {
      entry.running = false;
      const durationMs = clock.now() - started;
      if (error === undefined) {
        opts.log({ severity: "INFO", message: `job ${entry.job.name} ran`, ...fields, durationMs });
      } else {
        opts.log({
          severity: "ERROR",
          message: `job ${entry.job.name} failed: ${error.message}`,
          ...fields,
          durationMs,
          error: error.stack ?? error.message,
        });
      }
    });
  };

  for (const entry of state) schedule(entry, new Date(clock.now()));

  return {
    stop() {
      stopped = true;
      for (const entry of state) clearTimeout(entry.timer);
    },
    next: () =>
      state
        .map((entry) => ({ name: entry.job.name, at: entry.at }))
        .sort((a, b) => a.at.getTime() - b.at.getTime()),
  };
}

async function runJob(job: ScheduledJob, scheduledAt: Date): Promise<Error | undefined> {
  try {
    await job.run(scheduledAt);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
