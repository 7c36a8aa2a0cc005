import { createContext, useContext } from "react";

/**
 * Colours by meaning. Only the basic ANSI hues that stay readable on both dark
 * and light backgrounds (no white, black, grey or yellow text); secondary text
 * uses the terminal's own dim attribute. With NO_COLOR every colour is dropped
 * and meaning is carried by words, bold and inverse video.
 */
import type { Tone } from "../present/columns.js";

export type { Tone };

const TONE_COLORS: Record<Tone, string | undefined> = {
  ok: "green",
  warn: "magenta",
  error: "red",
  accent: "cyan",
  info: "blue",
  muted: undefined,
};

export interface Theme {
  noColor: boolean;
  color(tone: Tone | undefined): string | undefined;
  /** Dim is a text attribute, not a colour: used for "muted" in both modes. */
  dim(tone: Tone | undefined): boolean;
}

export function createTheme(noColor: boolean): Theme {
  return {
    noColor,
    color: (tone) => (noColor || tone === undefined ? undefined : TONE_COLORS[tone]),
    dim: (tone) => tone === "muted",
  };
}

/** NO_COLOR (https://no-color.org): any non-empty value turns colour off. */
export function noColorRequested(env: NodeJS.ProcessEnv): boolean {
  return typeof env.NO_COLOR === "string" && env.NO_COLOR !== "";
}

export const ThemeContext = createContext<Theme>(createTheme(false));

export function useTheme(): Theme {
  return useContext(ThemeContext);
}

// The state → tone words are shared with the CLI.
export { nodeStateTone, taskStateTone } from "../present/vocabulary.js";
