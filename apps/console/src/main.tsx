import { initializeApp } from "firebase/app";
import { connectAuthEmulator, getAuth } from "firebase/auth";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { loadConsoleConfig } from "./config.ts";
import "./style.css";

const root = createRoot(document.getElementById("root") as HTMLElement);
try {
  const config = await loadConsoleConfig();
  if (!config.api_key) throw new Error("the console server has no FIREBASE_API_KEY");
  const firebase = initializeApp({
    apiKey: config.api_key,
    projectId: config.project_id,
    ...(config.auth_domain ? { authDomain: config.auth_domain } : {}),
  });
  const auth = getAuth(firebase);
  if (config.auth_emulator_url) {
    connectAuthEmulator(auth, config.auth_emulator_url, { disableWarnings: true });
  }
  root.render(
    <StrictMode>
      <App auth={auth} config={config} />
    </StrictMode>,
  );
} catch (error) {
  root.render(<p className="error">The console cannot start: {(error as Error).message}</p>);
}
