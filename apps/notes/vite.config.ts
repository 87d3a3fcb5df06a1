import { defaultClientConditions, defineConfig } from "vite";

// `./syncstack up` starts this dev server with the stack's addresses in VITE_* variables
// (src/config.ts). `source` resolves @syncstack/client to its TypeScript, so nothing is built first.
export default defineConfig({
  resolve: { conditions: ["source", ...defaultClientConditions] },
  // Pre-bundle the SDK at start rather than at the first page load, which would reload the page.
  optimizeDeps: { include: ["firebase/app", "firebase/auth"] },
  server: { host: "127.0.0.1", strictPort: true },
  // Each stack may have its own cache (the tests start stacks beside a developer's).
  ...(process.env.SYNCSTACK_APP_CACHE_DIR ? { cacheDir: process.env.SYNCSTACK_APP_CACHE_DIR } : {}),
  build: { target: "es2024" },
  clearScreen: false,
});
