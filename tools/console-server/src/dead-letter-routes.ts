import type { PubSub } from "@google-cloud/pubsub";
import { type DeadLetter, DeadLetterStore } from "@syncstack/dead-letters";
import { AppError, type Publisher, topics } from "@syncstack/shared";
import type { Express, RequestHandler } from "express";
import { z } from "zod";
import { parseBody, parseQuery } from "./parse.ts";

const topicName = z.enum(topics.map((topic) => topic.name) as [string, ...string[]], {
  error: `must be one of ${topics.map((topic) => topic.name).join(", ")}`,
});
const letterId = z
  .string()
  .regex(/^[^/]+\/[^/]+$/, "must be a dead letter id (<topic>/<id>)")
  .refine((id) => topics.some((topic) => id.startsWith(`${topic.name}/`)), "names no known topic");

const listQuery = z.strictObject({
  topic: topicName.optional(),
  limit: z.coerce
    .number({ error: "limit must be a number" })
    .int("limit must be an integer")
    .min(1, "limit must be at least 1")
    .max(1_000, "limit must be at most 1000")
    .default(500),
});
const replayBody = z
  .strictObject({
    ids: z.array(letterId).min(1, "ids must name at least one").max(1_000).optional(),
    all: z.literal(true, { error: "all must be true when given" }).optional(),
    topic: topicName.optional(),
  })
  .refine((body) => (body.ids === undefined) !== (body.all === undefined), {
    message: "give either ids or all: true",
  });
const dropBody = z.strictObject({
  ids: z.array(letterId).min(1, "ids must name at least one").max(1_000),
});

/** A dead letter as the console's JSON: the payload as text (when UTF-8) and base64. */
export function deadLetterJson(letter: DeadLetter) {
  return {
    id: letter.id,
    topic: letter.topic,
    publish_time: letter.publishTime.toISOString(),
    reason: letter.reason,
    source_subscription: letter.sourceSubscription ?? null,
    attributes: letter.attributes,
    ordering_key: letter.orderingKey ?? null,
    payload: letter.data.toString("utf8"),
    payload_base64: letter.data.toString("base64"),
    size: letter.data.length,
  };
}

/**
 * The dead-letter engine of `./syncstack dead-letters`, with its operations one at a time:
 * each pulls every dead letter and holds it while it runs, so a listing running beside a
 * replay would hide the letters it holds from the replay.
 */
export class SerialDeadLetters {
  readonly store: DeadLetterStore;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(pubsub: PubSub) {
    this.store = new DeadLetterStore(pubsub, topics);
  }

  run<T>(operation: (store: DeadLetterStore) => Promise<T>): Promise<T> {
    const next = this.#queue.then(() => operation(this.store));
    this.#queue = next.catch(() => {});
    return next;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

const topicsOf = (ids: readonly string[]) => [...new Set(ids.map((id) => id.split("/")[0] ?? ""))];

/**
 * `GET /v1/console/dead-letters?topic=&limit=`, `POST /v1/console/dead-letters:replay`
 * (`{ids}` or `{all: true, topic?}`) and `POST /v1/console/dead-letters:drop` (`{ids}`).
 */
export function deadLetterRoutes(
  app: Express,
  admin: RequestHandler[],
  letters: SerialDeadLetters,
  publisher: Publisher,
  onChange: () => void,
): void {
  app.get("/v1/console/dead-letters", ...admin, async (request, response) => {
    const query = parseQuery(listQuery, request.query);
    const found = await letters.run((store) =>
      store.list({ topics: query.topic ? [query.topic] : undefined, limit: query.limit }),
    );
    response.json({ dead_letters: found.map(deadLetterJson) });
  });
  app.post(/^\/v1\/console\/dead-letters:replay$/, ...admin, async (request, response) => {
    const body = parseBody(replayBody, request.body);
    const wanted = new Set(body.ids ?? []);
    const replayed = await letters.run((store) =>
      store.replay(
        publisher,
        (letter) => body.all === true || wanted.has(letter.id),
        body.topic ? [body.topic] : body.ids ? topicsOf(body.ids) : undefined,
      ),
    );
    onChange();
    response.json({
      replayed: replayed.map((letter) => letter.id),
      not_found: [...wanted].filter((id) => !replayed.some((letter) => letter.id === id)),
    });
  });
  app.post(/^\/v1\/console\/dead-letters:drop$/, ...admin, async (request, response) => {
    const body = parseBody(dropBody, request.body);
    const wanted = new Set(body.ids);
    const dropped = await letters.run((store) =>
      store.drop((letter) => wanted.has(letter.id), topicsOf(body.ids)),
    );
    onChange();
    const missing = body.ids.filter((id) => !dropped.some((letter) => letter.id === id));
    if (dropped.length === 0) {
      throw new AppError("not_found", `no dead letter ${missing.join(", ")}`);
    }
    response.json({ dropped: dropped.map((letter) => letter.id), not_found: missing });
  });
}
