/** The services of the system, each a Cloud Run service of its own. */
export const serviceNames = ["sync", "files", "backup", "analytics"] as const;
export type ServiceName = (typeof serviceNames)[number];

/**
 * V8 options a service runs with, wherever it runs (image, local stack, benchmarks). The
 * backup service streams whole collections: V8 would otherwise grow its young generation to
 * 2 x 64 MiB under that churn, a fixed but large step in RSS; 16 MiB semi-spaces keep a
 * 100,000-document export within a few MiB of a 10,000-document one at the same speed.
 * The files service streams megabytes per file: with 16 MiB semi-spaces its garbage
 * collection cost about 20 ms of CPU less per 12-megapixel JPEG (117-123 -> 97-98 ms a file,
 * peak RSS 337 -> 315 MiB); 32 MiB was slower again and passed 400 MiB.
 * The sync service's young generation grew to its default 64 MiB under the garbage of 1,000
 * change streams' catch-ups and stayed there (64 of the 92-117 KiB of RSS per idle stream read
 * 2 s after they opened): 16 MiB semi-spaces hold it to 32 MiB, 81-89 KiB per stream then,
 * at the same fan-out latency (docs/benchmarks.md, live streams).
 */
export const serviceNodeOptions: Readonly<Record<ServiceName, string>> = {
  sync: "--max-semi-space-size=16",
  files: "--max-semi-space-size=16",
  backup: "--max-semi-space-size=16",
  analytics: "",
};

/**
 * V8 flags a service sets on itself as it starts (`v8.setFlagsFromString`), for flags Node does
 * not take in NODE_OPTIONS, which is how the image passes `serviceNodeOptions`. V8 lets the old
 * generation grow to several times what survived the last full collection before it collects
 * again; the files service promotes ~200 KiB a file (request and client objects that outlive
 * two young collections while a file is processed), so its heap swung between 70 and 215 MiB
 * and its RSS passed 400 MiB. Growing by half instead holds the heap under ~100 MiB and RSS
 * near 240 MiB, for a full collection every few hundred files.
 */
export const serviceRuntimeV8Flags: Readonly<Record<ServiceName, string>> = {
  sync: "",
  files: "--heap-growing-percent=50",
  backup: "",
  analytics: "",
};

/**
 * Environment a service's process runs with, wherever it runs (Cloud Run, docker-compose, the
 * local stack, benchmarks). glibc gives each thread that allocates its own malloc arena, up to
 * 8 per core, and keeps what libvips' worker threads free there: the files service's RSS crept
 * to 451 MiB over two minutes of 12-megapixel JPEGs, 379 MiB with two arenas (the V8 heap was
 * the same). sharp's own advice for glibc is the same: fewer arenas, or another allocator.
 */
export const serviceEnvironment: Readonly<Record<ServiceName, Readonly<Record<string, string>>>> = {
  sync: {},
  files: { MALLOC_ARENA_MAX: "2" },
  backup: {},
  analytics: {},
};
