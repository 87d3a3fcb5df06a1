import type { createServiceApp } from "@syncstack/shared";

type Express = ReturnType<typeof createServiceApp>;

/** An HTTP route an express app serves, as declared (a path pattern or a RegExp). */
export interface DeclaredRoute {
  method: string;
  path: string | RegExp;
}

interface Layer {
  route?: { path: string | RegExp; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/**
 * Every route of an app, read from express's router (mounted routers included), so a test
 * iterating over them cannot miss one a service adds later.
 */
export function routesOf(app: Express): DeclaredRoute[] {
  const routes: DeclaredRoute[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== "_all")
            routes.push({ method: method.toUpperCase(), path: layer.route.path });
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return routes;
}

/** A route's key, e.g. `POST /v1/sync` or `POST /^\/v1\/backups\/([^/:]+):restore$/`. */
export function routeKey(route: DeclaredRoute): string {
  return `${route.method} ${String(route.path)}`;
}
