import { join, resolve } from "node:path";
import express, { type RequestHandler } from "express";

/**
 * The built console app (apps/console/dist): its files, and index.html for any other page
 * path, so that a reload of `/dead-letters` shows that page. The pages hold no data: every
 * figure comes from `/v1/console`, which only admins may call.
 */
export function builtPages(appDir: string): RequestHandler[] {
  // sendFile wants an absolute path; the image names the app relative to its directory.
  const dir = resolve(appDir);
  return [
    express.static(dir, { index: "index.html", maxAge: "1h", immutable: false }),
    (request, response, next) => {
      if (request.method !== "GET" || request.path.startsWith("/v1/")) {
        next();
        return;
      }
      response.set("cache-control", "no-cache").sendFile(join(dir, "index.html"));
    },
  ];
}

/**
 * apps/console through Vite's dev middleware: the local stack serves the app from source,
 * with nothing built first. Vite is a development dependency, loaded only here.
 */
export async function devPages(
  root: string,
  cacheDir?: string,
): Promise<{
  handler: RequestHandler;
  close(): Promise<void>;
}> {
  const { createServer } = await import("vite");
  const vite = await createServer({
    root,
    configFile: join(root, "vite.config.ts"),
    appType: "spa",
    server: { middlewareMode: true, hmr: false },
    ...(cacheDir ? { cacheDir } : {}),
    clearScreen: false,
    logLevel: "warn",
  });
  return {
    handler: (request, response, next) => {
      if (request.path.startsWith("/v1/")) next();
      else vite.middlewares(request, response, next);
    },
    close: () => vite.close(),
  };
}
