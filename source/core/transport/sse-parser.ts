/** Longest `data` of one SSE event a chat stream may send (its lines together). */
export const MAX_SSE_EVENT_CHARS = 1024 * 1024;

/**
 * Incremental SSE decoder: feed bytes split anywhere (even inside a UTF-8 sequence
 * or a CRLF) and get the `data` of each complete event.
 */
export class SseParser {
  private readonly decoder = new TextDecoder("utf-8");
  private buffer = "";
  private data: string[] = [];
  private dataChars = 0;
  /** Complete lines seen so far (blank ones and comments too): the stream's sign of life. */
  lines = 0;

  constructor(private readonly maxEventChars = MAX_SSE_EVENT_CHARS) {}

  push(bytes: Uint8Array): string[] {
    return this.consume(this.decoder.decode(bytes, { stream: true }), false);
  }

  /** The stream ended: flush a last event even if its blank line is missing. */
  end(): string[] {
    return this.consume(`${this.decoder.decode()}\n\n`, true);
  }

  private consume(text: string, final: boolean): string[] {
    this.buffer += text;
    const events: string[] = [];
    // A trailing "\r" may be the first half of "\r\n": keep it until more arrives.
    const lineEnd = final ? /\r\n|\n|\r/g : /\r\n|\n|\r(?!$)/g;
    let start = 0;
    for (let match = lineEnd.exec(this.buffer); match; match = lineEnd.exec(this.buffer)) {
      this.line(this.buffer.slice(start, match.index), events);
      start = match.index + match[0].length;
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length + this.dataChars > this.maxEventChars) {
      throw new Error(`an SSE event is longer than ${this.maxEventChars} characters`);
    }
    return events;
  }

  private line(line: string, events: string[]): void {
    this.lines++;
    if (line === "") {
      if (this.data.length) events.push(this.data.join("\n"));
      this.data = [];
      this.dataChars = 0;
      return;
    }
    if (line.startsWith(":")) return; // comment / keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== "data") return; // event:, id:, retry: carry nothing we use
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    this.data.push(value);
    this.dataChars += value.length;
  }
}
