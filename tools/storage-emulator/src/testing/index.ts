import { createHash, randomBytes } from "node:crypto";
import { Storage } from "@google-cloud/storage";
import { Crc32c } from "@syncstack/shared/crc32c";
import {
  type StorageEmulator,
  type StorageEmulatorOptions,
  startStorageEmulator,
} from "../server.ts";

/** An emulator on a free port and a client that reaches it only through its `apiEndpoint`. */
export interface TestEmulator {
  emulator: StorageEmulator;
  storage: Storage;
  /** The emulator's log lines, parsed. */
  logs: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Starts an emulator for a test file (in memory unless `dataDir` is given). */
export async function startTestEmulator(
  options: Partial<StorageEmulatorOptions> = {},
  projectId = "demo-storage-test",
): Promise<TestEmulator> {
  // The client must never look for credentials or a metadata server.
  process.env.METADATA_SERVER_DETECTION = "none";
  // The client sends JSON API calls to STORAGE_EMULATOR_HOST (the test runner's shared
  // emulator) even when given an apiEndpoint; this file's own emulator must get them all.
  delete process.env.STORAGE_EMULATOR_HOST;
  const logs: Array<Record<string, unknown>> = [];
  const emulator = await startStorageEmulator({
    port: 0,
    log: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
    ...options,
  });
  const storage = new Storage({ projectId, apiEndpoint: emulator.url });
  return { emulator, storage, logs, stop: () => emulator.stop() };
}

/** A bucket name no other test uses. */
export function bucketName(prefix = "b"): string {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}

const MiB = 1024 * 1024;

/** `total` bytes of deterministic noise in 1 MiB chunks, the same for the same seed. */
export function* noise(total: number, seed = 1): Generator<Buffer> {
  let state = seed >>> 0 || 1;
  for (let offset = 0; offset < total; offset += MiB) {
    const chunk = Buffer.alloc(Math.min(MiB, total - offset));
    for (let i = 0; i + 4 <= chunk.length; i += 4) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      chunk.writeUInt32LE(state >>> 0, i);
    }
    yield chunk;
  }
}

/** md5 and crc32c (base64, as in object resources) of a stream of chunks. */
export function checksumsOf(chunks: Iterable<Buffer>): { md5Hash: string; crc32c: string } {
  const md5 = createHash("md5");
  const crc = new Crc32c();
  for (const chunk of chunks) {
    md5.update(chunk);
    crc.update(chunk);
  }
  return { md5Hash: md5.digest("base64"), crc32c: crc.digest() };
}
