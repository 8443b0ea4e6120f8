/** The part of the WHATWG WebSocket the client uses; browsers and the `ws` package both provide it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

export type WebSocketFactory = (url: string) => Promise<WebSocketLike>;

export const OPEN = 1;

/** What the server (src/plugins/auth.ts) reads: its own protocol name, and the key behind `bearer.`. */
const browserSubprotocols = (apiKey: string): string[] => ['idea2spec', `bearer.${apiKey}`];

/**
 * The runtime's WebSocket, or the `ws` package where there is none (Node 20).
 * `ws` is loaded only then, so browser bundles never need it. With `ws` the API
 * key travels in the Authorization header; a browser cannot set headers on an
 * upgrade, so it offers the key as a subprotocol instead (never in the URL, which lands in logs).
 */
export function defaultWebSocketFactory(apiKey: string | undefined): WebSocketFactory {
  return async (url) => {
    const native = (globalThis as { WebSocket?: new (url: string, protocols?: string[]) => WebSocketLike }).WebSocket;
    if (native) return new native(url, apiKey ? browserSubprotocols(apiKey) : undefined);
    const { WebSocket } = await import('ws');
    return new WebSocket(
      url,
      apiKey ? { headers: { authorization: `Bearer ${apiKey}` } } : {},
    ) as unknown as WebSocketLike;
  };
}
