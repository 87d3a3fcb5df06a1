import { FieldValue, type Firestore } from "@google-cloud/firestore";
import { consumer, userCreated, withDeadline } from "@syncstack/shared";

/** Default preferences of a new profile (docs/contract.md). */
export const defaultPreferences = { notifications: true, theme: "light", language: "en" } as const;

/**
 * `user-created` -> `users/{uid}`: creates the profile with default preferences; a repeated
 * or redelivered event never resets an existing profile, it only refreshes `last_login`.
 */
export function onUserCreated(db: Firestore, deadlineMs: number) {
  return consumer(userCreated, async ({ data }) => {
    const ref = db.collection("users").doc(data.uid);
    await withDeadline("firestore.users.upsert", deadlineMs, () =>
      db.runTransaction(async (transaction) => {
        const existing = await transaction.get(ref);
        if (existing.exists) {
          transaction.update(ref, { last_login: FieldValue.serverTimestamp() });
          return;
        }
        transaction.create(ref, {
          email: data.email,
          display_name: data.display_name,
          photo_url: data.photo_url,
          email_verified: data.email_verified,
          created_at: FieldValue.serverTimestamp(),
          last_login: FieldValue.serverTimestamp(),
          preferences: defaultPreferences,
          subscription_tier: "free",
        });
      }),
    );
  });
}
