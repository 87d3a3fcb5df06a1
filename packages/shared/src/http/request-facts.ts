import { trace } from "@opentelemetry/api";

/** What a request is about, for its log line and its span: the user and the document. */
export interface RequestFacts {
  uid?: string;
  collection?: string;
  document?: string;
}

const facts = new WeakMap<object, RequestFacts>();

/** Notes what a request is about: its request log carries it and its span gets attributes. */
export function noteRequest(request: object, noted: RequestFacts): void {
  const merged = { ...facts.get(request) };
  for (const [key, value] of Object.entries(noted) as [keyof RequestFacts, unknown][]) {
    if (typeof value !== "string" || value === "") continue;
    merged[key] = value;
    trace.getActiveSpan()?.setAttribute(`syncstack.${key}`, value);
  }
  facts.set(request, merged);
}

/** What `noteRequest` noted for a request. */
export function requestFacts(request: object): RequestFacts {
  return facts.get(request) ?? {};
}

/** A request's collection and document, from its path parameters or its JSON body. */
export function documentOfRequest(request: {
  params?: Record<string, unknown>;
  body?: unknown;
}): RequestFacts {
  const body =
    typeof request.body === "object" && request.body !== null
      ? (request.body as Record<string, unknown>)
      : {};
  const pick = (name: string) => {
    const value = request.params?.[name] ?? body[name];
    return typeof value === "string" ? value : undefined;
  };
  const collection = pick("collection");
  const document = pick("document");
  return {
    ...(collection ? { collection } : {}),
    ...(document ? { document } : {}),
  };
}
