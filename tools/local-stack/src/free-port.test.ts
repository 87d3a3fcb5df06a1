import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { test } from "node:test";
import { freePort } from "./free-port.ts";

test("free ports lie below the ephemeral range, can be listened on, and are never repeated", async () => {
  const [low = "32768"] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
    .trim()
    .split(/\s+/);
  const ports: number[] = [];
  for (let i = 0; i < 20; i++) ports.push(await freePort());
  assert.equal(new Set(ports).size, ports.length, ports.join(", "));
  for (const port of ports) assert.ok(port >= 15_000 && port < Number(low), String(port));
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(ports[0], "127.0.0.1", resolve));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
