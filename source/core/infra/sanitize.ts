/**
 * Text from agents, tasks and files is untrusted. Remove terminal escape
 * sequences (CSI, OSC, DCS, …) and C0/C1 control characters so nothing can move
 * the cursor, retitle the window or switch screen buffers.
 */
const ESCAPE_SEQUENCES =
  // OSC/DCS/APC/PM/SOS … terminated by BEL or ST; their one-byte C1 forms only when terminated
  // after a short printable payload (a stray C1 byte, as in mis-decoded text, must not eat the
  // rest of a reply: CONTROLS drops it alone); CSI with params; two-char ESC sequences.
  /\u001b[\]PX^_][\s\S]*?(?:\u0007|\u001b\\|$)|[\u0090\u0098\u009d-\u009f][\x20-\x7e]{0,512}?(?:\u0007|\u009c|\u001b\\)|\u009b[0-?]*[ -/]*[@-~]|\u001b\[[0-?]*[ -/]*[@-~]|\u001b[ -/]*[0-~]?/g;
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
  /^(?:\u001b[\]PX^_][\s\S]*?(?:\u0007|\u001b\\)|[\u0090\u0098\u009d-\u009f][\x20-\x7e]{0,512}?(?:\u0007|\u009c|\u001b\\)|\u009b[0-?]*[ -/]*[@-~]|\u001b\[[0-?]*[ -/]*[@-~]|\u001b(?![\]PX^_[])[ -/]*[0-~])/;
const MAX_HELD = 4096;
/** Characters that open a one-byte C1 string sequence (DCS, SOS, OSC, PM, APC). */
const C1_STRING_STARTERS = ["\u0090", "\u0098", "\u009d", "\u009e", "\u009f"];
/** A one-byte C1 string sequence can only still be arriving while its payload is short and printable. */
const C1_STRING_SO_FAR = /^[\u0090\u0098\u009d-\u009f](?:[\x20-\x7e]{0,512}|[\x20-\x7e]{0,512}\u001b)$/;
const mayStillArrive = (tail: string) =>
  !COMPLETE_AT_START.test(tail) &&
  tail.length <= MAX_HELD &&
  (tail[0] === "\u001b" || tail[0] === "\u009b" || C1_STRING_SO_FAR.test(tail));
const lastOf = (text: string, chars: readonly string[]) => Math.max(...chars.map((c) => text.lastIndexOf(c)));

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
      // A C1 string's own ESC \\ terminator may be the last starter: look from the C1 byte first.
      const c1 = lastOf(text, C1_STRING_STARTERS);
      const esc = lastOf(text, ["\u001b", "\u009b"]);
      const cut = c1 >= 0 && mayStillArrive(text.slice(c1)) ? c1 : esc;
      if (cut >= 0 && mayStillArrive(text.slice(cut))) {
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
