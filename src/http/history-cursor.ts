import { Errors } from '../errors.js';

/** A position after a row of the newest-first listing: (createdAt, id) is a seek in the index, whatever the depth. */
export interface KeysetCursor {
  kind: 'keyset';
  createdAt: number;
  id: number;
  /** The page this cursor opens, for pagination.page. */
  page: number;
}

/** A position in the ranked matches of a search, within the snapshot of ideas up to asOf. */
export interface SearchCursor {
  kind: 'search';
  asOf: number;
  offset: number;
}

export type Cursor = KeysetCursor | SearchCursor;

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** Opaque to clients (base64url of a small JSON), so its shape can change without breaking them. */
export function encodeCursor(cursor: Cursor): string {
  const body =
    cursor.kind === 'keyset'
      ? { k: [cursor.createdAt, cursor.id], p: cursor.page }
      : { s: [cursor.asOf, cursor.offset] };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

/** The cursor, or INVALID_CURSOR (400) for anything this service did not write. */
export function decodeCursor(raw: string): Cursor {
  let body: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw new Error('not base64url');
    body = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new Errors.InvalidCursor('it is not a cursor this service wrote');
  }
  const { k, p, s } = (body ?? {}) as { k?: unknown; p?: unknown; s?: unknown };
  if (Array.isArray(k) && k.length === 2 && k.every(isCount) && isCount(p) && p >= 1)
    return { kind: 'keyset', createdAt: k[0], id: k[1], page: p };
  if (Array.isArray(s) && s.length === 2 && s.every(isCount)) return { kind: 'search', asOf: s[0], offset: s[1] };
  throw new Errors.InvalidCursor('it is not a cursor this service wrote');
}
