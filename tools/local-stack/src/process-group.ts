import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

/** A child process started in its own process group, with every output line sent to a log. */
export type ManagedProcess = {
  name: string;
  pid: number;
  /**
   * Resolves with the leader's exit code, null when a signal ended it, 127 when it could not
   * start; its last output lines may reach `log` just after.
   */
  exited: Promise<number | null>;
  /** SIGTERM to the whole group, SIGKILL to what is left after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
};

/** What `startService` runs and where its output lines go. */
export type ServiceOptions = {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  log: (line: string) => void;
};

/** Spawns `command` as the leader of a new process group so that stopping it reaches its children. */
export function startService(name: string, opts: ServiceOptions): ManagedProcess {
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", opts.log);
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once("error", (error) => {
      opts.log(`could not start ${opts.command}: ${error.message}`);
      resolve(127);
    });
    child.once("exit", (code) => resolve(code));
  });
  const pid = child.pid ?? -1;
  const watchdog = pid > 0 ? watchParent(pid) : undefined;
  void exited.then(() => watchdog?.kill());
  return {
    name,
    pid,
    exited,
    stop: async (graceMs = 10_000) => {
      if (pid > 0) await stopGroup(pid, graceMs);
      watchdog?.kill();
    },
  };
}

/**
 * A detached shell that stops the group if this process dies without stopping it (SIGKILL,
 * a crash): the group is detached so that stopping reaches its children, which would
 * otherwise leave emulator JVMs running forever.
 */
function watchParent(pgid: number) {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done
kill -TERM -${pgid} 2>/dev/null; sleep 5; kill -KILL -${pgid} 2>/dev/null`;
  const watcher = spawn("/bin/sh", ["-c", script], { detached: true, stdio: "ignore" });
  watcher.unref();
  return watcher;
}

/** Sends SIGTERM to process group `pgid`, waits up to `graceMs` for it to empty, then SIGKILLs it. */
async function stopGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, "SIGTERM")) return;
  if (await groupGone(pgid, graceMs)) return;
  signalGroup(pgid, "SIGKILL");
  if (!(await groupGone(pgid, 5_000))) {
    throw new Error(`process group ${pgid} survived SIGKILL`);
  }
}

/** Signals every process of group `pgid`; returns false when none is left to signal. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  // -1 and -0 would signal every process we may signal, or our own group.
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`not a process group id: ${pgid}`);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

async function groupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (signalGroup(pgid, 0) && hasLiveMember(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** The fields of /proc/<pid>/stat after the command name: state is [0], pgrp [2], utime [11], stime [12]. */
function statFields(path: string): string[] | undefined {
  try {
    const stat = readFileSync(path, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined; // the process or thread ended
  }
}

/** Each member of process group `pgid` with its stat fields. */
function* groupStats(pgid: number): Generator<{ pid: string; fields: string[] }> {
  if (!existsSync("/proc/self/stat")) return;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const fields = statFields(`/proc/${pid}/stat`);
    if (fields && Number(fields[2]) === pgid) yield { pid, fields };
  }
}

// An orphaned child (java under the Firestore bash launcher) stays a zombie until init reaps it,
// which some inits do seconds late or never; a zombie holds no port or memory, so it counts as gone.
function hasLiveMember(pgid: number): boolean {
  if (!existsSync("/proc/self/stat")) return true;
  for (const { fields } of groupStats(pgid))
    if (fields[0] !== "Z" && fields[0] !== "X") return true;
  return false;
}

/** The /proc directory of each thread of a process (none once it ended). */
function threadDirs(pid: string): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map((task) => `/proc/${pid}/task/${task}`);
  } catch {
    return []; // it ended
  }
}

/** True once every thread of every live member of a process group is stopped (SIGSTOP). */
export function groupStopped(pgid: number): boolean {
  let members = 0;
  for (const { pid, fields } of groupStats(pgid)) {
    if (fields[0] === "Z" || fields[0] === "X") continue;
    const threads = threadDirs(pid);
    if (threads.length === 0) continue;
    for (const thread of threads) {
      const state = statFields(`${thread}/stat`)?.[0];
      if (state !== undefined && state !== "T" && state !== "t" && state !== "Z") return false;
    }
    members++;
  }
  return members > 0;
}

/** CPU time (user + system, in ms) used so far by the live members of a process group. */
export function groupCpuMs(pgid: number): number {
  let ticks = 0;
  for (const { fields } of groupStats(pgid)) ticks += Number(fields[11]) + Number(fields[12]);
  return ticks * 10; // USER_HZ is 100 on Linux
}

/**
 * CPU time (ms) used so far by the JIT compiler threads of a process group's JVMs: HotSpot
 * names them "C1 CompilerThreadN" and "C2 CompilerThreadN" (truncated to 15 characters).
 */
export function groupJitCpuMs(pgid: number): number {
  let ticks = 0;
  for (const { pid } of groupStats(pgid)) {
    for (const thread of threadDirs(pid)) {
      let name: string;
      try {
        name = readFileSync(`${thread}/comm`, "utf8");
      } catch {
        continue; // it ended
      }
      if (!/^C[12] CompilerThre/.test(name)) continue;
      const fields = statFields(`${thread}/stat`);
      if (fields) ticks += Number(fields[11]) + Number(fields[12]);
    }
  }
  return ticks * 10;
}

/** Where `prefixLines` writes, and how wide the padded prefix column is. */
export type PrefixOptions = {
  width?: number;
  out?: { write(text: string): unknown; isTTY?: boolean };
};

/**
 * Builds a `log` function writing "<prefix> | <line>" lines; pass the longest prefix length as
 * `width` so that several services line up, and an ANSI color code (31-36) to color the prefix.
 */
export function prefixLines(
  prefix: string,
  color?: number,
  options: PrefixOptions = {},
): (line: string) => void {
  const out = options.out ?? process.stdout;
  const padded = prefix.padEnd(options.width ?? prefix.length);
  const label =
    color !== undefined && out.isTTY === true ? `\x1b[${color}m${padded}\x1b[0m` : padded;
  return (line) => {
    out.write(`${label} | ${line}\n`);
  };
}
