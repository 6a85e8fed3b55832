import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The state manager serves dist/ at / (packages/state-manager/src/http/plugins/dashboard.ts).
// `npm run dev -w @exosphere/dashboard` proxies the API to a state manager on :8000.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1024 },
  server: {
    proxy: { "/v0": { target: "http://localhost:8000", changeOrigin: false } },
  },
});
