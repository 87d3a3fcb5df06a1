import type { BlobSink } from "./blob-store.ts";
import type { ContentHasher } from "./content-hasher.ts";

/** How much of a request body was kept, and whether the body arrived whole. */
export interface Received {
  written: number;
  complete: boolean;
}

/**
 * Streams bytes into a blob, hashing what it keeps, one chunk at a time (memory stays flat
 * whatever the size). The first `skip` bytes are dropped: a resumed upload may resend bytes
 * the emulator already has. A client that goes away ends the copy with what arrived so far.
 */
export async function receiveInto(
  source: AsyncIterable<unknown>,
  sink: BlobSink,
  hasher: ContentHasher,
  skip = 0,
): Promise<Received> {
  let toSkip = skip;
  let written = 0;
  try {
    for await (const value of source) {
      let chunk = value as Buffer;
      if (toSkip > 0) {
        const dropped = Math.min(toSkip, chunk.length);
        toSkip -= dropped;
        chunk = chunk.subarray(dropped);
        if (chunk.length === 0) continue;
      }
      hasher.update(chunk);
      await sink.write(chunk);
      written += chunk.length;
    }
  } catch (error) {
    if (isAbort(error)) return { written, complete: false };
    throw error;
  }
  return { written, complete: true };
}

/** True for the errors a request stream ends with when its client disconnects. */
export function isAbort(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "EPIPE";
}
