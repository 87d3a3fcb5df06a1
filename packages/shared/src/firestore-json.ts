import { Timestamp } from "@google-cloud/firestore";

/**
 * Stored Firestore values as an answer's JSON: timestamps become ISO 8601 strings, maps and
 * arrays are converted member by member, everything else is already JSON.
 */
export function firestoreJson(value: unknown): unknown {
  if (value instanceof Timestamp) return value.toDate().toISOString();
  if (Array.isArray(value)) return value.map(firestoreJson);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, firestoreJson(item)]),
    );
  }
  return value;
}
