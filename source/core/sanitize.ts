/**
 * Text from agents, tasks and files is untrusted. Remove terminal escape
 * sequences (CSI, OSC, DCS, …) and C0/C1 control characters so nothing can move
 * the cursor, retitle the window or switch screen buffers.
 */
const ESCAPE_SEQUENCES =
  // OSC/DCS/APC/PM/SOS … terminated by BEL or ST; CSI with params; two-char ESC sequences.
  /\u001b[\]PX^_][\s\S]*?(?:\u0007|\u001b\\|$)|\u009b[0-?]*[ -/]*[@-~]|\u001b\[[0-?]*[ -/]*[@-~]|\u001b[ -/]*[0-~]?/g;
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Keep newlines and tabs (as spaces); drop everything else that controls a terminal. */
export function sanitizeText(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, "").replace(CONTROLS, "").replace(/\t/g, "  ");
}

/** For single-line cells: newlines become spaces too. */
export function sanitizeLine(text: string): string {
  return sanitizeText(text).replace(/\r?\n|\r/g, " ");
}
