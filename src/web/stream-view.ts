import { lex, renderTokens } from './markdown.js';

export interface Heading {
  id: string;
  level: number;
  text: string;
}

/**
 * Renders a spec into a container while it is being written, without re-rendering what is done:
 * every top-level block the Markdown lexer has seen end (a later block has begun) is rendered
 * once and appended; only the last, still open block is rendered again, at most once per
 * animation frame however many deltas arrive. finish() renders the final text once more, whole
 * (a later block can change an earlier one's meaning, e.g. a reference link), and returns its headings.
 */
export class StreamView {
  private text = '';
  /** How much of `text` is in committed blocks. */
  private committed = 0;
  private readonly open: HTMLElement;
  private frame = 0;
  /** How many times the view was drawn; tests read it from data-renders. */
  private renders = 0;

  constructor(private readonly container: HTMLElement) {
    this.open = document.createElement('div');
    this.reset();
  }

  reset(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.text = '';
    this.committed = 0;
    this.open.replaceChildren();
    this.container.replaceChildren(this.open);
    this.open.className = 'block open';
  }

  append(delta: string): void {
    this.text += delta.replace(/\r\n?/g, '\n');
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  finish(text: string): Heading[] {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.text = text;
    const whole = document.createElement('div');
    whole.className = 'block';
    fill(whole, renderTokens(lex(text)));
    this.container.replaceChildren(whole);
    this.count();
    return headingsOf(whole);
  }

  stop(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  private draw(): void {
    this.frame = 0;
    const tail = this.text.slice(this.committed);
    const tokens = lex(tail);
    let last = tokens.length - 1;
    while (last >= 0 && tokens[last].type === 'space') last--;
    // If the tokens do not spell the text exactly, commit nothing: the open block shows it all.
    const exact = tokens.map((token) => token.raw).join('') === tail;
    for (let i = 0; exact && i < last; i++) {
      const token = tokens[i];
      this.committed += token.raw.length;
      if (token.type === 'space') continue;
      const block = document.createElement('div');
      block.className = 'block';
      fill(block, renderTokens([token]));
      this.container.insertBefore(block, this.open);
    }
    fill(this.open, renderTokens(exact ? tokens.slice(Math.max(last, 0)) : tokens));
    this.count();
  }

  private count(): void {
    this.container.dataset.renders = String(++this.renders);
  }
}

/** Sanitised HTML into a block; code blocks and tables scroll sideways, so they take keyboard focus. */
function fill(block: HTMLElement, html: string): void {
  block.innerHTML = html;
  block.querySelectorAll<HTMLElement>('pre, table').forEach((scroller) => (scroller.tabIndex = 0));
}

function headingsOf(root: HTMLElement): Heading[] {
  return Array.from(root.querySelectorAll<HTMLHeadingElement>('h1, h2, h3'), (heading, i) => {
    heading.id = `spec-section-${i + 1}`;
    heading.tabIndex = -1;
    return { id: heading.id, level: Number(heading.tagName[1]), text: heading.textContent ?? '' };
  });
}
