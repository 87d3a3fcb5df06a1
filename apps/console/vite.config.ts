import { defaultClientConditions, defineConfig } from "vite";

// The console server (tools/console-server) serves this app: through Vite's dev middleware on
// the local stack (nothing built first), or `vite build`'s dist/ in production.
export default defineConfig({
  resolve: { conditions: ["source", ...defaultClientConditions] },
  // Pre-bundled at start rather than at the first page load, which would reload the page.
  optimizeDeps: {
    include: [
      "react",
      "react-dom/client",
      "react/jsx-runtime",
      "firebase/app",
      "firebase/auth",
      "uplot",
    ],
  },
  build: { target: "es2024" },
  clearScreen: false,
});
