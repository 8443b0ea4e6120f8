import { MARK_CLOSE, MARK_OPEN } from '../db/snippet.js';

const PREVIEW_CHARS = 200;

/** Cuts by code points, so an emoji or a rare CJK character is never split in half. */
export function cut(text: string, chars: number): string {
  const points = Array.from(text);
  return points.length > chars ? `${points.slice(0, chars).join('').trimEnd()}…` : text;
}

/** The beginning of a spec as one line of plain text: Markdown syntax and code fences removed. */
export function specPreview(markdown: string): string {
  const text = markdown
    .replace(/^\s*(`{3,}|~{3,}).*$/gm, ' ')
    .replace(/^\s{0,3}(#{1,6}|>+|[-*+]|\d+[.)])\s+/gm, '')
    .replace(/[*_`~]+/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
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
