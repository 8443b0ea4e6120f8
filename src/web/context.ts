import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { ApiError, type Idea2SpecClient } from '../client/index.js';
import type { Lang, Strings } from './i18n.js';

export interface AppContext {
  lang: Lang;
  t: Strings;
  client: Idea2SpecClient;
  apiKey: string | undefined;
  /** Client-side navigation (History API). */
  navigate(path: string): void;
  /** The history panel lists again (an idea was added, finished or deleted). */
  refreshHistory(): void;
  historyVersion: number;
  /** A call made with `usedKey` answered 401: ask for the API key (unless the key has changed since). */
  unauthorized(usedKey: string | undefined): void;
}

export const Ctx = createContext<AppContext>(undefined as unknown as AppContext);
export const useApp = () => useContext(Ctx);

/** The text to show for a failed call, after asking for the key when it was a 401. */
export function failure(app: AppContext, err: unknown): string {
  // The context a call was made from holds the key that call sent.
  if (err instanceof ApiError && err.status === 401) app.unauthorized(app.apiKey);
  return err instanceof Error ? err.message : String(err);
}

export const isAbort = (err: unknown) => err instanceof DOMException && err.name === 'AbortError';

/** A link that navigates inside the app unless the person asked for a new tab or window. */
export function followLink(app: AppContext, event: MouseEvent, path: string): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  app.navigate(path);
}
