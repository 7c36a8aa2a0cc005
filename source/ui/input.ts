import type { Key } from "ink";

/**
 * One key press, by the names the keymap uses ("j", "G", "enter", "ctrl+c",
 * "space"). `text` is set for keys that type a character into a text field.
 */
export interface KeyPress {
  name: string;
  text?: string;
}

function charToKey(char: string): KeyPress | null {
  switch (char) {
    case "\r":
    case "\n":
      return { name: "enter" };
    case "\t":
      return { name: "tab" };
    case "\u007f":
    case "\b":
      return { name: "backspace" };
    case "\u001b":
      return { name: "escape" };
    case " ":
      return { name: "space", text: " " };
  }
  const code = char.codePointAt(0) ?? 0;
  if (code >= 1 && code <= 26) return { name: `ctrl+${String.fromCharCode(code + 96)}` };
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return null;
  return { name: char, text: char };
}

/**
 * Ink hands over one event per chunk it could not split further: a burst of
 * plain keys (typed fast, or batched by an SSH connection) arrives as one
 * string. Split it so every key is handled on its own, in order.
 */
export function toKeyPresses(input: string, key: Key): KeyPress[] {
  if (key.upArrow) return [{ name: "up" }];
  if (key.downArrow) return [{ name: "down" }];
  if (key.leftArrow) return [{ name: "left" }];
  if (key.rightArrow) return [{ name: "right" }];
  if (key.pageUp) return [{ name: "pageup" }];
  if (key.pageDown) return [{ name: "pagedown" }];
  if (key.home) return [{ name: "home" }];
  if (key.end) return [{ name: "end" }];
  if (key.return) return [{ name: "enter" }];
  if (key.escape) return [{ name: "escape" }];
  if (key.tab) return [{ name: key.shift ? "shift+tab" : "tab" }];
  if (key.backspace) return [{ name: "backspace" }];
  if (key.delete) return [{ name: "delete" }];
  if (key.ctrl && /^[a-z]$/.test(input)) return [{ name: `ctrl+${input}` }];
  if (key.meta) return [];
  const presses: KeyPress[] = [];
  for (const char of input) {
    const press = charToKey(char);
    if (press) presses.push(press);
  }
  return presses;
}
