type Attributes = Record<string, string | boolean | undefined | ((event: Event) => void)>;
type Child = Node | string | false | null | undefined;

/** A tiny element builder: attributes (`on*` are listeners, booleans toggle) and children as text. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else if (typeof value === "string") element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== false && child !== null && child !== undefined) element.append(child);
  }
  return element;
}

/** A short-lived message at the bottom of the page (errors and refusals). */
export function toast(message: string, kind: "info" | "error" = "info"): void {
  let tray = document.querySelector<HTMLElement>(".toasts");
  if (!tray) {
    tray = h("div", { class: "toasts", role: "status" });
    document.body.append(tray);
  }
  const item = h("div", { class: `toast ${kind}`, "data-testid": "toast" }, message);
  tray.append(item);
  setTimeout(() => item.remove(), 6_000);
}
