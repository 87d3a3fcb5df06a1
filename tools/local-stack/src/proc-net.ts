import { readdir, readFile } from "node:fs/promises";

/** The addresses a TCP port is listened on, from /proc/net/tcp and tcp6 ("127.0.0.1", "::"...). */
export async function listeningAddresses(port: number): Promise<string[]> {
  const found: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const row of text.split("\n").slice(1)) {
      const [, local, , state] = row.trim().split(/\s+/);
      if (state !== "0A" || !local) continue; // 0A: LISTEN
      const [hex = "", portHex = ""] = local.split(":");
      if (Number.parseInt(portHex, 16) === port) found.push(addressOf(hex));
    }
  }
  return found;
}

/** /proc/net's little-endian hex address as text (IPv6 in full, zeros compressed to "::"). */
function addressOf(hex: string): string {
  if (hex.length === 8) {
    return (hex.match(/../g) ?? [])
      .map((byte) => Number.parseInt(byte, 16))
      .reverse()
      .join(".");
  }
  const words = (hex.match(/.{8}/g) ?? []).map((word) =>
    (word.match(/../g) ?? []).reverse().join(""),
  );
  const groups = words.join("").match(/.{4}/g) ?? [];
  const full = groups.map((group) => Number.parseInt(group, 16).toString(16)).join(":");
  return full === "0:0:0:0:0:0:0:0" ? "::" : full;
}

/** Processes whose command line or environment names one of the ports (emulators' JVMs, services). */
export async function processesUsing(ports: number[]): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    const environ = await readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
    const text = `${cmdline.replaceAll("\0", " ")} ${environ.replaceAll("\0", " ")}`;
    if (ports.some((port) => text.includes(`--port=${port}`) || text.includes(`PORT=${port}`))) {
      found.push(`${pid}: ${cmdline.replaceAll("\0", " ").slice(0, 120)}`);
    }
  }
  return found;
}
