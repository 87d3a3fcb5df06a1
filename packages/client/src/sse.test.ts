import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SseParser } from "./sse.ts";

// What the sync service's stream sends, as the stream brief records it.
const recorded = [
  "retry: 1000\n\n",
  ": ping\n\n",
  'id: c1\nevent: change\ndata: {"document":"n1","data":{"title":"hi"},"version":1}\n\n',
  'id: c2\nevent: change\ndata: {"document":"n1","deleted":true,"version":2}\n\n',
  ": ping\n\n",
  'event: end\ndata: {"reason":"lifetime","retry_ms":250}\n\n',
].join("");

describe("SseParser", () => {
  test("parses the stream's retry, changes, heartbeats and end", () => {
    const events = new SseParser().push(recorded);
    assert.deepEqual(
      events.map((event) => [event.event, event.id, event.retry]),
      [
        ["retry", undefined, 1000],
        ["change", "c1", undefined],
        ["change", "c2", undefined],
        ["end", "c2", undefined],
      ],
    );
    assert.deepEqual(JSON.parse(events[2]?.data ?? ""), {
      document: "n1",
      deleted: true,
      version: 2,
    });
    assert.deepEqual(JSON.parse(events[3]?.data ?? ""), { reason: "lifetime", retry_ms: 250 });
  });

  test("gives the same events whatever the chunks, \\r\\n split between two included", () => {
    const crlf = recorded.replaceAll("\n", "\r\n");
    const whole = new SseParser().push(crlf);
    for (const size of [1, 2, 3, 7, 64]) {
      const parser = new SseParser();
      const events = [];
      for (let at = 0; at < crlf.length; at += size)
        events.push(...parser.push(crlf.slice(at, at + size)));
      assert.deepEqual(events, whole, `chunks of ${size}`);
    }
    assert.equal(whole.length, 4);
  });

  test("joins data lines, keeps the last id across events, waits for the blank line", () => {
    const parser = new SseParser("c0");
    assert.deepEqual(parser.push("data: a\ndata:b\n"), []);
    const [event] = parser.push("\n");
    assert.deepEqual(event, { event: "message", data: "a\nb", id: "c0" });
    assert.equal(parser.lastEventId, "c0");
  });
});
