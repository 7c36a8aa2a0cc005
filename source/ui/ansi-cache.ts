/**
 * @alcalzone/ansi-tokenize with a memory, for Ink (pointed here by load-tui.ts and, in
 * the bundle, by source/build/bundle.ts).
 *
 * Ink rebuilds the whole screen for every frame: each text node's line is tokenised into
 * ANSI codes and characters and turned into styled character cells, with a cache that
 * lives one frame. Ten snapshots a second change a few rows of ~40, so nearly every line
 * was tokenised again as it was the frame before. Here the tokens of recent lines, and
 * the cells made from them, are kept (bounded, see below). Ink only reads them
 * (it copies a cell before changing it), so the same arrays can be handed out again.
 */
import {
  type StyledChar,
  styledCharsFromTokens as styledCharsFromTokensUncached,
  type Token,
  tokenize as tokenizeUncached,
} from "@alcalzone/ansi-tokenize";

import { RecentCache } from "./recent-cache.js";

export * from "@alcalzone/ansi-tokenize";

// A line's tokens and cells take ~15 KB for a 120-column row of CJK text: keep about a
// screen's worth (a frame tokenises ~45 distinct lines at 120×40; the two generations
// hold up to 96), not everything ever shown.
const tokensByLine = new RecentCache<string, Token[]>(48);
const charsByTokens = new WeakMap<Token[], StyledChar[]>();
const MAX_CACHED_LENGTH = 1024;

export function tokenize(str: string, endChar?: number): Token[] {
  if (endChar !== undefined || str.length > MAX_CACHED_LENGTH) return tokenizeUncached(str, endChar);
  let tokens = tokensByLine.get(str);
  if (tokens === undefined) {
    tokens = tokenizeUncached(str);
    tokensByLine.set(str, tokens);
  }
  return tokens;
}

export function styledCharsFromTokens(tokens: Token[]): StyledChar[] {
  let chars = charsByTokens.get(tokens);
  if (chars === undefined) {
    chars = styledCharsFromTokensUncached(tokens);
    charsByTokens.set(tokens, chars);
  }
  return chars;
}
