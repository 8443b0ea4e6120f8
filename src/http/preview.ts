import { MARK_CLOSE, MARK_OPEN } from '../db/snippet.js';

const PREVIEW_CHARS = 200;

/** Cuts by code points, so an emoji or a rare CJK character is never split in half. */
export function cut(text: string, chars: number): string {
  if (text.length <= chars) return text;
  let end = 0;
  for (let n = 0; n < chars && end < text.length; n++) end += text.codePointAt(end)! > 0xffff ? 2 : 1;
  return end >= text.length ? text : `${text.slice(0, end).trimEnd()}…`;
}

/** Fence lines, and the heading, quote and list markers that open a line. */
const MARKDOWN_LINE = /^[ \t]*(?:`{3,}|~{3,}).*$|^[ \t]{0,3}(?:#{1,6}|>+|[-*+]|\d+[.)])[ \t]+/gm;
/** Links (kept: their label) and emphasis or code markers (dropped). */
const MARKDOWN_INLINE = /\[([^\]\n]*)\]\([^)\n]*\)|[*_`~]+/g;

/** The beginning of a spec as one line of plain text: Markdown syntax and code fences removed. */
export function specPreview(markdown: string): string {
  const text = markdown
    .replace(MARKDOWN_LINE, ' ')
    .replace(MARKDOWN_INLINE, (_, label: string | undefined) => label ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  return cut(text, PREVIEW_CHARS);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** A snippet as safe HTML: the stored text escaped, the hits in <mark>; it can go into innerHTML as it is. */
export function snippetHtml(marked: string): string {
  return marked
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[&<>"']/g, (c) => HTML_ESCAPES[c])
    .replaceAll(MARK_OPEN, '<mark>')
    .replaceAll(MARK_CLOSE, '</mark>');
}
