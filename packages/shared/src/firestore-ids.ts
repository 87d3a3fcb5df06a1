/** The longest collection or document id Firestore stores, in UTF-8 bytes. */
export const maxIdBytes = 1_500;

/** Lone surrogates have no UTF-8 form: Firestore refuses them or stores U+FFFD instead. */
export const loneSurrogateProblem = "has a lone surrogate (not valid Unicode)";

/**
 * Why `id` cannot be a Firestore collection or document id (named `what` in the message),
 * or undefined when it can: Firestore's rules, checked before a path is built from it.
 */
export function firestoreIdProblem(id: string, what: string): string | undefined {
  if (id.length === 0) return `${what} must not be empty`;
  if (!id.isWellFormed()) return `${what} ${loneSurrogateProblem}`;
  if (id.includes("/")) return `${what} must not contain "/"`;
  if (id === "." || id === "..") return `${what} must not be "." or ".."`;
  if (/^__.*__$/.test(id)) return `${what} must not match __.*__ (reserved by Firestore)`;
  if (Buffer.byteLength(id, "utf8") > maxIdBytes)
    return `${what} must be at most ${maxIdBytes} bytes`;
  return undefined;
}
