/**
 * Pub/Sub subscription filters on attributes, evaluated in the shared layer because the
 * emulator stores filters but never applies them. Supports the documented grammar:
 * `attributes:key`, `attributes.key = "v"`, `!=`, `hasPrefix(attributes.key, "p")`,
 * `NOT`/`-`, `AND`, `OR` and parentheses.
 */
export type AttributeFilter = (attributes: Readonly<Record<string, string>>) => boolean;

type Token = { kind: "word" | "string" | "symbol"; text: string; at: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:("(?:[^"\\]|\\.)*")|(!=|[=():,-])|([A-Za-z_][\w.-]*))/y;
  let index = 0;
  while (index < source.length) {
    if (/^\s*$/.test(source.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(source);
    if (!match)
      throw new Error(`filter ${JSON.stringify(source)}: unexpected character at ${index}`);
    const at = match.index + match[0].length - (match[1] ?? match[2] ?? match[3] ?? "").length;
    if (match[1]) tokens.push({ kind: "string", text: JSON.parse(match[1]) as string, at });
    else if (match[2]) tokens.push({ kind: "symbol", text: match[2], at });
    else tokens.push({ kind: "word", text: match[3] ?? "", at });
    index = pattern.lastIndex;
  }
  return tokens;
}

/** Compiles a filter expression; an expression outside the grammar throws naming the position. */
export function compileFilter(source: string): AttributeFilter {
  const tokens = tokenize(source);
  let position = 0;
  const fail = (what: string): never => {
    const at = tokens[position]?.at ?? source.length;
    throw new Error(`filter ${JSON.stringify(source)}: ${what} at ${at}`);
  };
  const peek = () => tokens[position];
  const take = (text?: string): Token => {
    const token = tokens[position];
    if (!token || (text !== undefined && token.text !== text))
      fail(`expected ${text ?? "more input"}`);
    position++;
    return token as Token;
  };
  const attributeKey = (): string => {
    if (!peek()?.text.startsWith("attributes.")) fail("expected attributes.<key>");
    return take().text.slice("attributes.".length);
  };

  const primary = (): AttributeFilter => {
    const token = peek();
    if (!token) return fail("expected a condition");
    if (token.text === "NOT" || token.text === "-") {
      position++;
      const inner = primary();
      return (attributes) => !inner(attributes);
    }
    if (token.text === "(") {
      position++;
      const inner = disjunction();
      take(")");
      return inner;
    }
    if (token.text === "hasPrefix") {
      position++;
      take("(");
      const key = attributeKey();
      take(",");
      const prefix = take().text;
      take(")");
      return (attributes) => attributes[key]?.startsWith(prefix) ?? false;
    }
    if (token.text === "attributes") {
      position++;
      take(":");
      const key = take().text;
      return (attributes) => Object.hasOwn(attributes, key);
    }
    const key = attributeKey();
    const operator = take().text;
    if (peek()?.kind !== "string") fail("expected a quoted value");
    const value = take();
    if (operator === "=") return (attributes) => attributes[key] === value.text;
    if (operator === "!=") return (attributes) => attributes[key] !== value.text;
    return fail(`unknown operator ${operator}`);
  };
  const conjunction = (): AttributeFilter => {
    const parts = [primary()];
    while (peek()?.text === "AND") {
      position++;
      parts.push(primary());
    }
    return (attributes) => parts.every((part) => part(attributes));
  };
  const disjunction = (): AttributeFilter => {
    const parts = [conjunction()];
    while (peek()?.text === "OR") {
      position++;
      parts.push(conjunction());
    }
    return (attributes) => parts.some((part) => part(attributes));
  };

  const filter = disjunction();
  if (position < tokens.length) fail("unexpected input");
  return filter;
}
