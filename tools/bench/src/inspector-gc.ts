/** Opens a session with the inspector of a Node process started with `--inspect=127.0.0.1:<port>`. */
async function openInspector(inspectPort: number): Promise<WebSocket> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${inspectPort}`);
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error(`could not reach ${url}`)), {
      once: true,
    });
  });
  return socket;
}

/** Sends one inspector command to a Node process started with `--inspect=127.0.0.1:<port>`. */
async function inspectorCall(
  inspectPort: number,
  method: string,
  params: Record<string, unknown> = {},
  onEvent?: (method: string, params: Record<string, unknown>) => void,
): Promise<unknown> {
  const socket = await openInspector(inspectPort);
  try {
    return await new Promise<unknown>((resolve, reject) => {
      socket.addEventListener("message", (event) => {
        const reply = JSON.parse(String(event.data)) as {
          id?: number;
          method?: string;
          params?: Record<string, unknown>;
          error?: unknown;
          result?: unknown;
        };
        if (reply.method) onEvent?.(reply.method, reply.params ?? {});
        if (reply.id !== 1) return;
        if (reply.error) reject(new Error(`${method}: ${JSON.stringify(reply.error)}`));
        else resolve(reply.result);
      });
      socket.send(JSON.stringify({ id: 1, method, params }));
    });
  } finally {
    socket.close();
  }
}

/**
 * Runs a full garbage collection in a Node process started with `--inspect=127.0.0.1:<port>`,
 * through its inspector (`HeapProfiler.collectGarbage`), so its RSS can be read without the
 * garbage it has not collected yet. Resolves once the collection is done.
 */
export async function collectGarbage(inspectPort: number): Promise<void> {
  await inspectorCall(inspectPort, "HeapProfiler.collectGarbage");
}

/** Where a process's memory is, KiB: V8's heap (used and committed, young generation apart) and the rest. */
export interface HeapBreakdown {
  heapUsedKiB: number;
  heapCommittedKiB: number;
  /** Committed to the young generation (new space), part of heapCommittedKiB. */
  youngCommittedKiB: number;
  /** Used in the young generation: objects allocated since the last scavenge, live or not. */
  youngUsedKiB: number;
  /** Memory of C++ objects tied to JavaScript ones (buffers among them). */
  externalKiB: number;
}

/** Reads the process's heap breakdown through its inspector, without collecting anything. */
export async function heapBreakdown(inspectPort: number): Promise<HeapBreakdown> {
  const expression = `(() => {
    const v8 = process.getBuiltinModule("node:v8");
    const heap = v8.getHeapStatistics();
    const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === "new_space");
    return JSON.stringify({
      heapUsed: heap.used_heap_size,
      heapCommitted: heap.total_heap_size,
      youngCommitted: young ? young.space_size : 0,
      youngUsed: young ? young.space_used_size : 0,
      external: heap.external_memory ?? process.memoryUsage().external,
    });
  })()`;
  const result = (await inspectorCall(inspectPort, "Runtime.evaluate", {
    expression,
    returnByValue: true,
  })) as { result?: { value?: string } };
  const bytes = JSON.parse(result.result?.value ?? "{}") as Record<string, number>;
  const kib = (key: string) => (bytes[key] ?? Number.NaN) / 1_024;
  return {
    heapUsedKiB: kib("heapUsed"),
    heapCommittedKiB: kib("heapCommitted"),
    youngCommittedKiB: kib("youngCommitted"),
    youngUsedKiB: kib("youngUsed"),
    externalKiB: kib("external"),
  };
}

/** Takes a heap snapshot of the process through its inspector; resolves with its JSON text. */
export async function heapSnapshot(inspectPort: number): Promise<string> {
  const chunks: string[] = [];
  await inspectorCall(
    inspectPort,
    "HeapProfiler.takeHeapSnapshot",
    { reportProgress: false },
    (method, params) => {
      if (method === "HeapProfiler.addHeapSnapshotChunk") chunks.push(String(params.chunk));
    },
  );
  return chunks.join("");
}

/**
 * Starts V8's sampling heap profiler in a Node process started with `--inspect`, counting
 * garbage too (objects a scavenge or a full collection took since): where the process
 * allocates, not only what it holds. The returned function stops it and answers the profile
 * (`.heapprofile` JSON, for Chrome's DevTools, Memory).
 */
export async function sampleAllocations(inspectPort: number): Promise<() => Promise<string>> {
  const socket = await openInspector(inspectPort);
  const replies = new Map<number, (reply: { result?: unknown; error?: unknown }) => void>();
  socket.addEventListener("message", (event) => {
    const reply = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (reply.id !== undefined) replies.get(reply.id)?.(reply);
  });
  let next = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = ++next;
      replies.set(id, (reply) =>
        reply.error
          ? reject(new Error(`${method}: ${JSON.stringify(reply.error)}`))
          : resolve(reply.result),
      );
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call("HeapProfiler.startSampling", {
    samplingInterval: 4_096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    try {
      const { profile } = (await call("HeapProfiler.stopSampling")) as { profile: unknown };
      return JSON.stringify(profile);
    } finally {
      socket.close();
    }
  };
}
