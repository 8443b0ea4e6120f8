import { useEffect, useRef, useState } from 'preact/hooks';
import { JOB_STATUSES, type IdeaSummary, type JobStatus } from '../client/index.js';
import { failure, followLink, isAbort, useApp } from './context.js';
import { formatAge, formatDuration } from './i18n.js';
import { safeSnippet } from './markdown.js';
import { Modal } from './modal.js';

const PAGE_SIZE = 20;

/** Earlier ideas, newest first: cursor pages ("load more"), a status filter, and full-text search with the server's snippets. */
export function History() {
  const app = useApp();
  const { t, client, lang } = app;
  const [items, setItems] = useState<IdeaSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState<JobStatus | ''>('');
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const [doomed, setDoomed] = useState<IdeaSummary>();
  const [note, setNote] = useState<string>();
  const request = useRef<AbortController>();

  // The search runs once typing pauses.
  useEffect(() => {
    const timer = setTimeout(() => setQuery(search.trim()), 250);
    return () => clearTimeout(timer);
  }, [search]);

  const load = async (after: string | null) => {
    request.current?.abort();
    const abort = new AbortController();
    request.current = abort;
    setLoading(true);
    setError(undefined);
    try {
      const page = await client.history(
        {
          limit: PAGE_SIZE,
          ...(query ? { search: query } : {}),
          ...(status ? { status } : {}),
          ...(after ? { cursor: after } : {}),
        },
        { signal: abort.signal },
      );
      setItems((before) => (after ? [...before, ...page.data] : page.data));
      setCursor(page.pagination.hasNext ? page.pagination.nextCursor : null);
    } catch (err) {
      if (!isAbort(err) && !abort.signal.aborted) setError(failure(app, err));
    } finally {
      if (request.current === abort) setLoading(false);
    }
  };

  useEffect(() => {
    void load(null);
    return () => request.current?.abort();
  }, [client, query, status, app.historyVersion]);

  const remove = async (idea: IdeaSummary) => {
    setDoomed(undefined);
    try {
      await client.delete(idea.id);
      setItems((before) => before.filter((item) => item.id !== idea.id));
      setNote(t.deleted);
      if (location.pathname === `/ideas/${idea.id}`) app.navigate('/');
    } catch (err) {
      setNote(failure(app, err));
    }
  };

  return (
    <aside class="card history" aria-labelledby="history-title">
      <h2 id="history-title">{t.history}</h2>
      <div class="filters" role="search">
        <div class="field grow">
          <label for="search">{t.search}</label>
          <input
            id="search"
            type="search"
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
            aria-keyshortcuts="/"
            autocomplete="off"
          />
        </div>
        <div class="field">
          <label for="status-filter">{t.statusFilter}</label>
          <select
            id="status-filter"
            value={status}
            onChange={(e) => setStatus(e.currentTarget.value as JobStatus | '')}
          >
            <option value="">{t.allStatuses}</option>
            {JOB_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t.status[s]}
              </option>
            ))}
          </select>
        </div>
      </div>
      <p class="note" role="status">
        {note ?? ''}
      </p>
      {error ? (
        <p class="error" role="alert">
          {t.error}: {error}
        </p>
      ) : null}
      <ul id="history-list" aria-busy={loading} data-count={items.length}>
        {items.map((item) => (
          <li key={item.id} class="item" data-id={item.id} data-status={item.status}>
            <a class="open" href={`/ideas/${item.id}`} onClick={(e) => followLink(app, e, `/ideas/${item.id}`)}>
              {item.idea}
            </a>
            {item.snippet ? (
              <p class="snippet" dangerouslySetInnerHTML={{ __html: safeSnippet(item.snippet) }} />
            ) : null}
            <p class="meta">
              <span class={`badge status-${item.status}`}>{t.status[item.status]}</span>
              {item.generator === 'offline' ? <span class="badge offline">{t.offline}</span> : null}
              <time
                dateTime={item.createdAt}
                title={new Date(item.createdAt).toLocaleString(lang === 'zh' ? 'zh-Hans' : 'en')}
              >
                {formatAge(lang, item.createdAt)}
              </time>
              {item.processingTimeMs !== null && item.processingTimeMs !== undefined ? (
                <span>{t.took(formatDuration(lang, item.processingTimeMs))}</span>
              ) : null}
            </p>
            <button
              type="button"
              class="delete link"
              onClick={() => setDoomed(item)}
              aria-label={`${t.delete}: ${item.idea}`}
            >
              {t.delete}
            </button>
          </li>
        ))}
      </ul>
      {!loading && items.length === 0 && !error ? (
        <p class="hint" id="history-empty">
          {query || status ? t.noMatches : t.noIdeas}
        </p>
      ) : null}
      {cursor ? (
        <button type="button" id="load-more" onClick={() => load(cursor)} disabled={loading}>
          {t.loadMore}
        </button>
      ) : null}
      <Modal open={doomed !== undefined} onClose={() => setDoomed(undefined)} titleId="delete-title" id="delete-dialog">
        <h2 id="delete-title">{t.delete}</h2>
        <p>{t.confirmDelete}</p>
        <blockquote>{doomed?.idea}</blockquote>
        <div class="actions">
          <button type="button" id="confirm-delete" class="danger" onClick={() => doomed && remove(doomed)}>
            {t.delete}
          </button>
          <button type="button" id="keep" onClick={() => setDoomed(undefined)} autofocus>
            {t.close}
          </button>
        </div>
      </Modal>
    </aside>
  );
}
