/**
 * Text from agents, tasks and files is untrusted. Remove terminal escape
 * sequences (CSI, OSC, DCS, …) and C0/C1 control characters so nothing can move
 * the cursor, retitle the window or switch screen buffers.
 */
const ESCAPE_SEQUENCES =
  // OSC/DCS/APC/PM/SOS … terminated by BEL or ST, introduced by ESC or by their one-byte C1
  // forms (whose payload would otherwise be left behind as text); CSI with params; two-char ESC sequences.
  /(?:\u001b[\]PX^_]|[\u0090\u0098\u009d-\u009f])[\s\S]*?(?:\u0007|\u001b\\|\u009c|$)|\u009b[0-?]*[ -/]*[@-~]|\u001b\[[0-?]*[ -/]*[@-~]|\u001b[ -/]*[0-~]?/g;
/** C0 and C1 controls, and the bidi overrides and isolates that can make text read other than it is. */
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Keep newlines and tabs (as spaces); drop everything else that controls a terminal. */
export function sanitizeText(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, "").replace(CONTROLS, "").replace(/\t/g, "  ");
}

/** For single-line cells: newlines become spaces too. */
export function sanitizeLine(text: string): string {
  return sanitizeText(text).replace(/\r?\n|\r/g, " ");
}

/** A complete escape sequence at the start of `tail`, as opposed to one still arriving. */
const COMPLETE_AT_START =
  /^(?:(?:\u001b[\]PX^_]|[\u0090\u0098\u009d-\u009f])[\s\S]*?(?:\u0007|\u001b\\|\u009c)|\u009b[0-?]*[ -/]*[@-~]|\u001b\[[0-?]*[ -/]*[@-~]|\u001b(?![\]PX^_[])[ -/]*[0-~])/;
const MAX_HELD = 4096;
/** Characters that can open a sequence that may still be arriving. */
const STARTERS = ["\u001b", "\u009b", "\u0090", "\u0098", "\u009d", "\u009e", "\u009f"];

/**
 * Sanitize text that arrives in pieces (streamed replies): an escape sequence cut
 * between two deltas is held back until it is complete, then dropped whole.
 */
export function createStreamSanitizer(): { push(delta: string): string; end(): string } {
  let held = "";
  return {
    push(delta: string): string {
      const text = held + delta;
      held = "";
      const cut = Math.max(...STARTERS.map((c) => text.lastIndexOf(c)));
      if (cut >= 0 && !COMPLETE_AT_START.test(text.slice(cut)) && text.length - cut <= MAX_HELD) {
        held = text.slice(cut);
        return sanitizeText(text.slice(0, cut));
      }
      return sanitizeText(text);
    },
    end(): string {
      const rest = held;
      held = "";
      return sanitizeText(rest);
    },
  };
}
