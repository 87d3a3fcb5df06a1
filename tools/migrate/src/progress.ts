/** Where progress goes: a terminal gets one updating line, anything else plain lines. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Reports a migration's progress until `finish()`. */
export interface Progress {
  update(done: number): void;
  /** The total, once counted (the run does not wait for the count). */
  setTotal(total: number): void;
  finish(): void;
}

/** Settings of a progress display; the clock and interval are for tests. */
export interface ProgressOptions {
  label: string;
  total?: number;
  /** Documents done before this run (a resumed migration), not counted in the rate. */
  done: number;
  now?: () => number;
  intervalMs?: number;
}

const windowMs = 10_000;

/**
 * Shows count, rate and ETA: on a terminal a bar redrawn in place a few times a second,
 * otherwise a plain line every 2 s (CI logs, files); a last one at the end either way.
 */
export function startProgress(stream: ProgressStream, options: ProgressOptions): Progress {
  const now = options.now ?? (() => performance.now());
  const tty = stream.isTTY === true;
  // Recent (time, done) samples: the rate follows the last few seconds, not the whole run.
  const samples: [number, number][] = [[now(), options.done]];
  let done = options.done;
  let total = options.total;
  const render = () => {
    const line = formatProgress(options.label, done, total, rateOf(samples, now()), tty);
    stream.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  };
  const timer = setInterval(render, options.intervalMs ?? (tty ? 200 : 2_000));
  timer.unref();
  if (tty) render();
  return {
    update(value) {
      done = value;
      const time = now();
      samples.push([time, value]);
      while (samples.length > 2 && (samples[1]?.[0] ?? time) < time - windowMs) samples.shift();
    },
    setTotal(value) {
      total = value;
    },
    finish() {
      clearInterval(timer);
      render();
      if (tty) stream.write("\n");
    },
  };
}

/** One progress line: count of total, percentage, a bar on a terminal, rate and ETA. */
export function formatProgress(
  label: string,
  done: number,
  total: number | undefined,
  perSecond: number,
  tty: boolean,
): string {
  const count = done.toLocaleString("en-US");
  const rate = `${Math.round(perSecond).toLocaleString("en-US")} docs/s`;
  if (total === undefined) return `${label} ${count} (counting) ${rate}`;
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const width = 24;
  const filled = Math.round(fraction * width);
  const bar = tty ? ` [${"#".repeat(filled)}${".".repeat(width - filled)}]` : "";
  const left = Math.max(0, total - done);
  const eta = left === 0 ? "0s" : perSecond > 0 ? formatDuration(left / perSecond) : "?";
  const percent = `${(fraction * 100).toFixed(1)}%`;
  return `${label}${bar} ${count}/${total.toLocaleString("en-US")} (${percent}) ${rate} ETA ${eta}`;
}

/** 75 -> "1m15s", 3725 -> "1h02m". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3_600)}h${String(Math.floor((s % 3_600) / 60)).padStart(2, "0")}m`;
}

// Measured up to now, so a stall shows as a falling rate rather than a frozen one.
function rateOf(samples: readonly [number, number][], time: number): number {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last || time <= first[0]) return 0;
  return ((last[1] - first[1]) * 1_000) / (time - first[0]);
}
