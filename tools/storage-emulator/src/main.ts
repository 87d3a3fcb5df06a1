// The storage emulator as a process, for the local stack:
//   node --conditions=source tools/storage-emulator/src/main.ts --port 4443 \
//     --data-dir .syncstack/storage --pubsub-host 127.0.0.1:8085
import { parseArgs } from "node:util";
import { startStorageEmulator } from "./server.ts";

// Nothing here may reach for the cloud metadata server, the Pub/Sub client included.
process.env.METADATA_SERVER_DETECTION = "none";

const usage = `usage: main.ts [--port 4443] [--host 127.0.0.1] [--data-dir DIR | --in-memory]
                [--pubsub-host HOST:PORT] [--quiet]
  --data-dir     keep data in DIR across restarts (default: .syncstack/storage)
  --in-memory    keep nothing on disk
  --pubsub-host  Pub/Sub emulator for bucket notifications (default: $PUBSUB_EMULATOR_HOST)
  --quiet        log problems only, not every request`;

let values: ReturnType<typeof parse>["values"];
function parse() {
  return parseArgs({
    options: {
      port: { type: "string", default: "4443" },
      host: { type: "string", default: "127.0.0.1" },
      "data-dir": { type: "string", default: ".syncstack/storage" },
      "in-memory": { type: "boolean", default: false },
      "pubsub-host": { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
}
try {
  values = parse().values;
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${usage}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be a port number, got ${values.port}\n`);
  process.exit(2);
}

const emulator = await startStorageEmulator({
  port,
  host: values.host,
  dataDir: values["in-memory"] ? undefined : values["data-dir"],
  pubsubEmulatorHost: values["pubsub-host"] ?? process.env.PUBSUB_EMULATOR_HOST,
  log: (line) => {
    if (!values.quiet || !line.includes('"severity":"INFO"')) process.stdout.write(`${line}\n`);
  },
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void emulator.stop().then(
      () => process.exit(0),
      (error: Error) => {
        process.stderr.write(`storage emulator did not stop cleanly: ${error.message}\n`);
        process.exit(1);
      },
    );
  });
}
