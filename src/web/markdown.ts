import DOMPurify from 'dompurify';
import { Marked, type Token, type Tokens } from 'marked';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * `[NEEDS CLARIFICATION: …]`, the marker the templates ask the model to leave on open questions
 * (the offline drafter writes it in every language), rendered as a highlighted <mark>.
 */
const clarification = {
  name: 'clarification',
  level: 'inline' as const,
  start: (src: string) => {
    const at = src.indexOf('[NEEDS CLARIFICATION');
    return at < 0 ? undefined : at;
  },
  tokenizer(src: string) {
    const match = /^\[NEEDS CLARIFICATION(?::\s*([^\]]*))?\]/.exec(src);
    return match ? { type: 'clarification', raw: match[0], text: match[1] ?? '' } : undefined;
  },
  renderer: (token: Tokens.Generic) =>
    `<mark class="clarify">[NEEDS CLARIFICATION${token.text ? `: ${escapeHtml(token.text as string)}` : ''}]</mark>`,
};

/**
 * Markdown with raw HTML shown as text, images as links (a spec's image would load from elsewhere,
 * which the page's CSP refuses anyway), and the result sanitised by DOMPurify all the same:
 * nothing a spec contains may run as script.
 */
const markdown = new Marked({
  gfm: true,
  renderer: {
    html: ({ text }) => escapeHtml(text),
    image: ({ href, text }) => `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`,
  },
  extensions: [clarification],
});

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') node.setAttribute('rel', 'noopener noreferrer nofollow');
});

const SPEC_POLICY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'img'],
  SANITIZE_NAMED_PROPS: true,
};

export function lex(text: string): Token[] {
  return markdown.lexer(text);
}

/** Safe HTML for some of a spec's top-level tokens. */
export function renderTokens(tokens: Token[]): string {
  return DOMPurify.sanitize(markdown.parser(tokens), SPEC_POLICY);
}

/** A search snippet from the server (text escaped, hits in <mark>) as HTML that can hold nothing but text and <mark>. */
export function safeSnippet(snippet: string): string {
  return DOMPurify.sanitize(snippet, { ALLOWED_TAGS: ['mark'], ALLOWED_ATTR: [] });
}
