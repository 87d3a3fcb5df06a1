/** The longest uid Firebase Auth issues, in characters (a token's `sub`). */
const maxUidLength = 128;

/**
 * The uid a file belongs to: the one path segment after `users/` in `users/{uid}/...`, the
 * convention Firebase Storage security rules use, or null for an object outside it (a uid
 * of more than 128 characters, nothing after the uid).
 */
export function ownerOf(name: string): string | null {
  const match = /^users\/([^/]+)\/(.+)$/s.exec(name);
  const uid = match?.[1];
  return uid !== undefined && uid.length <= maxUidLength ? uid : null;
}
