// `node --conditions=source tools/deploy/src/package-cli.ts <service|console> <dir>`: a service
// (or the ops console) alone, built and with its production dependencies, in <dir> (the
// Dockerfile's build stage).
import { resolve } from "node:path";
import { type ServiceName, serviceNames } from "@syncstack/shared";
import { packageConsole, packageService } from "./package-service.ts";

const usage = `usage: package-cli.ts <${serviceNames.join("|")}|console> <dir>\n\nBuilds a service (or the ops console) and writes it alone, with its production dependencies, to <dir>.\n`;
const [service, dir] = process.argv.slice(2);
if (service === "--help" || service === "-h") {
  process.stdout.write(usage);
  process.exit(0);
}
if ((service !== "console" && !serviceNames.includes(service as ServiceName)) || !dir) {
  process.stderr.write(usage);
  process.exit(2);
}
try {
  if (service === "console") await packageConsole(resolve(dir));
  else await packageService(service as ServiceName, resolve(dir));
} catch (error) {
  process.stderr.write(`package: ${(error as Error).message}\n`);
  process.exit(1);
}
