import { z } from "zod";
import { defaultRetry, defineTopic } from "./topic.ts";

/** A new account in the identity system. */
export const userCreatedSchema = z.object({
  uid: z.string().min(1).max(128),
  email: z.email().nullable().default(null),
  display_name: z.string().max(1_024).nullable().default(null),
  photo_url: z.url().nullable().default(null),
  email_verified: z.boolean().default(false),
});
export type UserCreated = z.output<typeof userCreatedSchema>;

/** `user-created`: a user signed up; sync keeps the profile, analytics the stats. */
export const userCreated = defineTopic({
  name: "user-created",
  description: "A user account was created",
  schema: userCreatedSchema,
  schemaVersion: 1,
  retry: defaultRetry,
  // Also the identity system, outside the services.
  publishers: ["sync"],
  subscriptions: [
    { service: "sync", delivery: "push", ackDeadlineSeconds: 30 },
    { service: "analytics", delivery: "push", ackDeadlineSeconds: 30 },
  ],
});
