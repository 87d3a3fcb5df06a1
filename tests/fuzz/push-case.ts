import {
  compileFilter,
  pushPath,
  type ServiceName,
  type SubscriptionSpec,
  subscriptionName,
  type TopicSpec,
} from "@syncstack/shared";
import { samplePayload } from "@syncstack/shared/testing";
import fc from "fast-check";
import { anyJson, hostileString } from "./hostile.ts";
import { type HttpCase, naming } from "./http-case.ts";

/** A push request, and whether its message must end in the dead-letter topic. */
export interface PushCase extends HttpCase {
  deadLetter: boolean;
}

let sequence = 0;

/**
 * Push requests to `service`'s endpoint for `topic`: envelopes that are not Pub/Sub's (400
 * naming the field) and well-formed envelopes carrying messages that can never be
 * processed (acked with 204 and dead-lettered, unless the subscription filters them out).
 */
export function pushCases(
  topic: TopicSpec,
  service: ServiceName,
  projectId: string,
): fc.Arbitrary<PushCase> {
  const spec = topic.subscriptions.find((s) => s.service === service) as SubscriptionSpec;
  const delivered = spec.filter ? compileFilter(spec.filter) : () => true;
  const subscription = `projects/${projectId}/subscriptions/${subscriptionName(topic, service)}`;
  const sample = samplePayload(topic);
  const failsSchema = (payload: unknown) => !topic.schema.safeParse(payload).success;
  const envelope = (
    data: string,
    attributes: Record<string, string>,
    extra: Record<string, unknown> = {},
  ) => ({
    subscription,
    message: {
      data,
      attributes,
      messageId: `fuzz-${++sequence}`,
      publishTime: new Date().toISOString(),
      ...extra,
    },
  });
  const request = (
    label: string,
    body: unknown,
    expect: HttpCase["expect"],
    deadLetter = false,
  ): PushCase => ({
    label,
    method: "POST",
    path: pushPath(topic),
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    expect,
    deadLetter,
  });

  const attributes = fc.record({
    schema_version: fc.constantFrom(String(topic.schemaVersion), "1"),
    eventType: fc.constantFrom("OBJECT_FINALIZE", "OBJECT_DELETE", "OBJECT_ARCHIVE"),
  });
  const poisonData = fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    anyJson.filter(failsSchema).map((value) => Buffer.from(JSON.stringify(value))),
    fc
      .tuple(
        fc.constantFrom(...Object.keys(sample)),
        fc.oneof(anyJson, hostileString, fc.constant(undefined)),
      )
      .map(([field, value]) => ({ ...sample, [field]: value }))
      .filter(failsSchema)
      .map((value) => Buffer.from(JSON.stringify(value))),
  );
  const poison = fc
    .tuple(poisonData, attributes)
    .map(([data, attrs]) =>
      request(
        "message failing the topic's schema",
        envelope(data.toString("base64"), attrs),
        { outcome: "refused", statuses: [204], names: /./ },
        delivered(attrs),
      ),
    );
  const futureVersion = attributes.map((attrs) => {
    const attrsWithVersion = { ...attrs, schema_version: String(topic.schemaVersion + 1) };
    return request(
      "message of an unknown schema version",
      envelope(Buffer.from(JSON.stringify(sample)).toString("base64"), attrsWithVersion),
      { outcome: "refused", statuses: [204], names: /./ },
      delivered(attrsWithVersion),
    );
  });
  const badEnvelope = fc
    .oneof(
      fc.constant(["message", {}]),
      fc.constant(["subscription", { ...envelope("", {}), subscription: undefined }]),
      fc.constant(["message.messageId", envelope("", {}, { messageId: undefined })]),
      fc.constant(["message.messageId", envelope("", {}, { messageId: 7 })]),
      fc.constant(["message.publishTime", envelope("", {}, { publishTime: "yesterday" })]),
      fc
        .constantFrom("%%%", "abc", "a===", "\u00ff\u00fe", "Zm9v\n")
        .map((data) => ["message.data", envelope(data, {})]),
      fc.constant(["message.attributes", envelope("", { a: 1 } as never)]),
      anyJson.map((junk) => ["message", { subscription, message: junk }]),
      fc.constant(["deliveryAttempt", { ...envelope("", {}), deliveryAttempt: "two" }]),
    )
    .filter(([, body]) => body !== undefined)
    .map(([field, body]) =>
      request("not a Pub/Sub push envelope", body, {
        outcome: "refused",
        statuses: [400],
        names: naming(String(field)),
      }),
    );
  return fc.oneof(poison, futureVersion, badEnvelope);
}
