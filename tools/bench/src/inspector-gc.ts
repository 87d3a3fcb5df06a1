/**
 * Runs a full garbage collection in a Node process started with `--inspect=127.0.0.1:<port>`,
 * through its inspector (`HeapProfiler.collectGarbage`), so its RSS can be read without the
 * garbage it has not collected yet. Resolves once the collection is done.
 */
export async function collectGarbage(inspectPort: number): Promise<void> {
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
  try {
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("message", (event) => {
        const reply = JSON.parse(String(event.data)) as { id?: number; error?: unknown };
        if (reply.id !== 1) return;
        if (reply.error) reject(new Error(`collectGarbage: ${JSON.stringify(reply.error)}`));
        else resolve();
      });
      socket.send(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" }));
    });
  } finally {
    socket.close();
  }
}
