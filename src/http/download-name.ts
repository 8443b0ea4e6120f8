const MAX_WORDS_CHARS = 60;

/**
 * A download name from the idea's first words: an ASCII fallback for old clients
 * and an RFC 5987 UTF-8 form, neither able to carry quotes, slashes or control characters.
 */
export function downloadFileName(id: number, idea: string): { ascii: string; utf8: string } {
  const words = idea
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .slice(0, MAX_WORDS_CHARS)
    .trim()
    .replace(/\s+/g, '-')
    .toLowerCase();
  const asciiWords = words
    .normalize('NFKD')
    .replace(/[^a-z0-9-]+/g, '')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  const ascii = `spec-${id}${asciiWords ? `-${asciiWords}` : ''}.md`;
  const utf8 = encodeURIComponent(`spec-${id}${words ? `-${words}` : ''}.md`).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return { ascii, utf8 };
}
