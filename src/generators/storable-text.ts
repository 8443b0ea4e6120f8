/**
 * Generated text as it can be stored, read back unchanged and shown safely. SQLite's
 * text ends at a NUL when read back, and UTF-8 has no encoding for a lone UTF-16
 * surrogate (it comes back as U+FFFD): a generator that writes either would leave a
 * stored spec cut short or different from the one streamed. The other control
 * characters (C0 but tab, line feed and carriage return; DEL; C1) are no text a spec
 * means, and a terminal acts on them: ESC and CSI start sequences that rewrite the
 * screen, set the window title or the clipboard (OSC 52) when a downloaded spec or a
 * log line is printed. Each becomes U+FFFD, one UTF-16 unit for one, so lengths and
 * the output cap are unchanged.
 */
const UNSTORABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|\p{Cs}/gu;

export function storableText(text: string): string {
  return text.replace(UNSTORABLE, '\uFFFD');
}

/**
 * storableText for a text that arrives in pieces: a high surrogate at the end of
 * a piece waits for the next one, since its pair may begin it. The pieces it
 * returns add up to storableText of the whole.
 */
export class StorableStream {
  private held = '';

  push(piece: string): string {
    let text = this.held + piece;
    this.held = '';
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      this.held = text.slice(-1);
      text = text.slice(0, -1);
    }
    return storableText(text);
  }

  /** What is still held, once no piece follows. */
  flush(): string {
    const rest = storableText(this.held);
    this.held = '';
    return rest;
  }
}
