import { context, propagation } from "@opentelemetry/api";
import { Router } from "express";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { continueRequestTrace } from "../http/trace-requests.ts";
import { pushPath, type SubscriptionSpec } from "../topics/topic.ts";
import { type Consumer, type ConsumerRuntime, createDeliveryProcessor } from "./consumer.ts";
import { type PushTokenVerifier, requirePushToken } from "./push-auth.ts";

const pushEnvelopeSchema = z.object({
  subscription: z.string().min(1),
  deliveryAttempt: z.number().int().optional(),
  message: z.object({
    data: z.base64().default(""),
    attributes: z.record(z.string(), z.string()).nullish(),
    messageId: z.string().min(1),
    publishTime: z.iso.datetime({ offset: true }),
    orderingKey: z.string().optional(),
  }),
});

/** The subscription of `service` on a consumer's topic; a consumer must be in the registry. */
export function subscriptionOf(target: Consumer, service: string): SubscriptionSpec {
  const subscription = target.topic.subscriptions.find((s) => s.service === service);
  if (!subscription) {
    throw new Error(`the registry has no subscription of ${service} to ${target.topic.name}`);
  }
  return subscription;
}

/** Whether a request path is a push endpoint's (`pushPath`): its trace is its message's. */
export function isPushPath(path: string): boolean {
  return path.startsWith("/pubsub/");
}

/**
 * Express routes `POST /pubsub/<topic>` for the service's push consumers. The status is the
 * ack: 204 acks (the emulator does not take 202), 503 asks Pub/Sub to redeliver. With
 * `verifyPush` a push without a valid OIDC token is refused before anything is processed.
 */
export function pushRoutes(
  consumers: readonly Consumer[],
  runtime: ConsumerRuntime,
  verifyPush?: PushTokenVerifier,
): Router {
  const router = Router();
  const authenticate = verifyPush ? [requirePushToken(verifyPush)] : [];
  for (const target of consumers) {
    const subscription = subscriptionOf(target, runtime.service);
    if (subscription.delivery !== "push") continue;
    const process = createDeliveryProcessor(target, subscription, runtime);
    router.post(pushPath(target.topic), ...authenticate, async (request, response) => {
      const envelope = pushEnvelopeSchema.safeParse(request.body);
      if (!envelope.success) {
        const problems = envelope.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
        throw new AppError(
          "invalid_argument",
          `not a Pub/Sub push envelope: ${problems.join("; ")}`,
        );
      }
      const { message, subscription: name, deliveryAttempt } = envelope.data;
      // The push request is a step of the message's trace, its handling a child of it.
      const traced = continueRequestTrace(
        request,
        propagation.extract(context.active(), message.attributes ?? {}),
      );
      const outcome = await context.with(traced, () =>
        process({
          messageId: message.messageId,
          subscription: name,
          data: Buffer.from(message.data, "base64"),
          attributes: message.attributes ?? {},
          publishTime: new Date(message.publishTime),
          orderingKey: message.orderingKey || undefined,
          deliveryAttempt,
        }),
      );
      if (outcome === "ack") response.status(204).end();
      else response.status(503).json({ error: { code: "unavailable", message: "retry later" } });
    });
  }
  return router;
}
