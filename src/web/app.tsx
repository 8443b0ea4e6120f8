import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { createClient } from '../client/index.js';
import { Composer } from './composer.js';
import { Ctx, followLink, type AppContext } from './context.js';
import { History } from './history.js';
import { initialLang, STRINGS, storeLang, type Lang } from './i18n.js';
import { IdeaView } from './idea-view.js';
import { Modal } from './modal.js';

const STORED_KEY = 'idea2spec.apiKey';

/** Keys that act only when the person is not typing. */
const typing = (target: EventTarget | null) =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [apiKey, setApiKey] = useState<string | undefined>(() => sessionStorage.getItem(STORED_KEY) ?? undefined);
  const [askKey, setAskKey] = useState<'ask' | 'wrong' | undefined>();
  const [help, setHelp] = useState(false);
  const [path, setPath] = useState(location.pathname);
  const [historyVersion, setHistoryVersion] = useState(0);
  const client = useMemo(() => createClient({ baseUrl: location.origin, apiKey }), [apiKey]);
  useEffect(() => () => client.close(), [client]);
  const t = STRINGS[lang];

  useEffect(() => {
    document.documentElement.lang = t.htmlLang;
  }, [t]);

  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  const navigate = useCallback((to: string) => {
    if (to !== location.pathname) history.pushState(null, '', to);
    setPath(to);
  }, []);
  const refreshHistory = useCallback(() => setHistoryVersion((v) => v + 1), []);
  // A late 401 from a call made with an earlier key (or none) must not overrule what the current key's calls say.
  const currentKey = useRef(apiKey);
  currentKey.current = apiKey;
  const unauthorized = useCallback((usedKey: string | undefined) => {
    if (usedKey === currentKey.current) setAskKey(usedKey ? 'wrong' : 'ask');
  }, []);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        document.querySelector<HTMLFormElement>('#idea-form')?.requestSubmit();
        return;
      }
      if (
        typing(event.target) ||
        event.ctrlKey ||
        event.metaKey ||
        event.altKey ||
        document.querySelector('dialog[open]')
      )
        return;
      const act: Record<string, () => void> = {
        '/': () => document.querySelector<HTMLInputElement>('#search')?.focus(),
        n: () => document.querySelector<HTMLTextAreaElement>('#idea')?.focus(),
        c: () => document.querySelector<HTMLButtonElement>('#copy')?.click(),
        '?': () => setHelp(true),
      };
      const action = act[event.key];
      if (!action) return;
      event.preventDefault();
      action();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const switchLang = () => {
    const next = lang === 'en' ? 'zh' : 'en';
    storeLang(next);
    setLang(next);
  };

  const app: AppContext = { lang, t, client, apiKey, navigate, refreshHistory, historyVersion, unauthorized };
  const ideaPath = /^\/ideas\/([^/]+)\/?$/.exec(path);
  const ideaId = ideaPath && /^[1-9]\d{0,15}$/.test(ideaPath[1]) ? Number(ideaPath[1]) : ideaPath ? -1 : undefined;

  useEffect(() => {
    // An idea's view names the tab after the idea; elsewhere it is the app's name.
    if (ideaId === undefined) document.title = t.title;
  }, [ideaId, t]);

  return (
    <Ctx.Provider value={app}>
      <a class="skip" href="#idea">
        {t.skip}
      </a>
      <header class="top">
        <a class="brand" href="/" onClick={(e) => followLink(app, e, '/')}>
          {t.title}
        </a>
        <p class="tagline">{t.tagline}</p>
        <nav class="tools" aria-label={t.title}>
          <a href="/status" id="status-link">
            {t.statusPage}
          </a>
          <button
            type="button"
            id="lang"
            class="link"
            onClick={switchLang}
            aria-label={`${t.language}: ${t.otherLanguage}`}
            lang={lang === 'en' ? 'zh-Hans' : 'en'}
          >
            {t.otherLanguage}
          </button>
          <button type="button" id="help" class="link" onClick={() => setHelp(true)} aria-keyshortcuts="?">
            {t.shortcuts} <kbd>?</kbd>
          </button>
        </nav>
      </header>
      <div class="layout">
        <main id="main">
          <Composer />
          {ideaId !== undefined ? <IdeaView key={`${ideaId}-${apiKey ?? ''}`} id={ideaId} /> : null}
        </main>
        <History />
      </div>
      <Modal open={help} onClose={() => setHelp(false)} titleId="help-title" id="help-dialog">
        <h2 id="help-title">{t.shortcuts}</h2>
        <table>
          <tbody>
            {t.keys.map(([keys, what]) => (
              <tr key={keys}>
                <th scope="row">
                  <kbd>{keys}</kbd>
                </th>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <form method="dialog">
          <button type="submit">{t.close}</button>
        </form>
      </Modal>
      <Modal open={askKey !== undefined} onClose={() => setAskKey(undefined)} titleId="key-title" id="key-dialog">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            const value = new FormData(event.currentTarget).get('key')?.toString().trim();
            if (!value) return;
            sessionStorage.setItem(STORED_KEY, value);
            setAskKey(undefined);
            setApiKey(value);
          }}
        >
          <h2 id="key-title">{t.keyTitle}</h2>
          <p>{askKey === 'wrong' ? t.keyWrong : t.keyText}</p>
          <label for="api-key">{t.keyLabel}</label>
          <input id="api-key" name="key" type="password" autocomplete="off" required autofocus />
          <div class="actions">
            <button type="submit" class="primary">
              {t.keySave}
            </button>
          </div>
        </form>
      </Modal>
    </Ctx.Provider>
  );
}
