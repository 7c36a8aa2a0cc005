import type { KeyPress } from "../input.js";

/** A one-line text field: the text and the caret, counted in code points. */
export interface TextField {
  text: string;
  caret: number;
}

export function textField(text = ""): TextField {
  return { text, caret: [...text].length };
}

/**
 * Apply one key to a text field. Returns null when the key is not an editing
 * key, so the caller can give it another meaning (Enter, Esc, Tab…).
 */
export function editText(field: TextField, key: KeyPress): TextField | null {
  const chars = [...field.text];
  const caret = Math.max(0, Math.min(field.caret, chars.length));
  const at = (text: string[], c: number): TextField => ({ text: text.join(""), caret: c });
  if (key.text !== undefined) {
    chars.splice(caret, 0, key.text);
    return at(chars, caret + 1);
  }
  switch (key.name) {
    case "backspace":
      if (caret === 0) return field;
      chars.splice(caret - 1, 1);
      return at(chars, caret - 1);
    case "delete":
      if (caret < chars.length) {
        chars.splice(caret, 1);
        return at(chars, caret);
      }
      if (caret === 0) return field;
      chars.splice(caret - 1, 1);
      return at(chars, caret - 1);
    case "left":
      return at(chars, Math.max(0, caret - 1));
    case "right":
      return at(chars, Math.min(chars.length, caret + 1));
    case "home":
    case "ctrl+a":
      return at(chars, 0);
    case "end":
    case "ctrl+e":
      return at(chars, chars.length);
    case "ctrl+u":
      return at(chars.slice(caret), 0);
    case "ctrl+k":
      return at(chars.slice(0, caret), caret);
    case "ctrl+w": {
      let start = caret;
      while (start > 0 && chars[start - 1] === " ") start--;
      while (start > 0 && chars[start - 1] !== " ") start--;
      chars.splice(start, caret - start);
      return at(chars, start);
    }
    default:
      return null;
  }
}
