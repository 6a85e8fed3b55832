/** Light and dark themes: `data-theme` on <html>, remembered in localStorage. */
import { createContext, useCallback, useContext, useEffect, useState } from "react";

export type Theme = "light" | "dark";

const KEY = "exosphere-theme";

function initialTheme(): Theme {
  const saved = window.localStorage.getItem(KEY);
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export interface ThemeValue {
  readonly theme: Theme;
  toggle(): void;
}

/** The app's theme state (once, in the app shell). */
export function useThemeState(): ThemeValue {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset["theme"] = theme;
  }, [theme]);
  const toggle = useCallback(() => {
    setTheme((current) => {
      const next = current === "dark" ? "light" : "dark";
      window.localStorage.setItem(KEY, next);
      return next;
    });
  }, []);
  return { theme, toggle };
}

export const ThemeContext = createContext<ThemeValue>({ theme: "light", toggle: () => undefined });

export function useTheme(): ThemeValue {
  return useContext(ThemeContext);
}
