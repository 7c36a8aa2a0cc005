import JSON5 from "json5";

/**
 * Parses JSON5 text (federation.json, OpenClaw's openclaw.json): comments, trailing commas and
 * unquoted keys are allowed. Most such files are plain JSON, which the built-in parser reads
 * many times faster than JSON5's character-by-character one; JSON5 reads only what JSON cannot,
 * so an error still carries JSON5's message (line and column).
 */
export function parseJson5(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  return JSON5.parse(text);
}
