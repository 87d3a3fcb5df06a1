/** The time now, in milliseconds since the epoch; tests pass a fake one. */
export type Clock = () => number;

/** The system clock. */
export const systemClock: Clock = () => Date.now();

/** Calls `tick` every `intervalMs` until the returned function is called. */
export type Schedule = (tick: () => void, intervalMs: number) => () => void;

/** Node's timer, unref'd so a sweeper never keeps a process alive on its own. */
export const intervalSchedule: Schedule = (tick, intervalMs) => {
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
};

export interface SweeperOptions {
  intervalMs: number;
  /** Told of a run that failed; the loop goes on with the next tick. */
  onError: (error: unknown) => void;
  /** What ticks the loop; tests pass one they drive by hand. */
  schedule?: Schedule;
}

/**
 * Runs `run` now (an instance may replace one that crashed with work left behind) and then
 * every `intervalMs`, one run at a time: a tick that comes while a run is still going is
 * skipped, so a slow run never piles up others behind it. Returns a function that stops the
 * ticks and waits for the run in progress.
 */
export function startSweeper(
  run: () => Promise<unknown>,
  options: SweeperOptions,
): () => Promise<void> {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = run()
      .then(
        () => undefined,
        (error: unknown) => options.onError(error),
      )
      .finally(() => {
        running = undefined;
      });
  };
  tick();
  const cancel = (options.schedule ?? intervalSchedule)(tick, options.intervalMs);
  return async () => {
    stopped = true;
    cancel();
    await running;
  };
}
