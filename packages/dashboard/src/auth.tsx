/** Whether the browser holds a session; any 401 sends the user back to sign in. */
import { createContext, useContext } from "react";

export interface AuthValue {
  /** The session ended or was never there: show the sign-in screen. */
  signedOut(): void;
  signOut(): Promise<void>;
}

export const AuthContext = createContext<AuthValue>({
  signedOut: () => undefined,
  signOut: async () => undefined,
});

export function useAuth(): AuthValue {
  return useContext(AuthContext);
}
