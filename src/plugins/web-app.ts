import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import fp from 'fastify-plugin';
import { projectRoot } from '../paths.js';

export interface WebAsset {
  body: Buffer;
  type: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The built browser app: its page, and its assets by file name; no page when it was not built. */
    webApp: { page: Buffer | undefined; asset(name: string): WebAsset | undefined };
  }
}

export interface WebAppOptions {
  /** Where `npm run build` put the app (default dist/web). */
  root?: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The browser app that `npm run build` bundled (scripts/build-web.ts), read into memory once at start:
 * a few hundred kilobytes, and no bundler or file system work per request.
 */
export default fp<WebAppOptions>(
  async function webAppPlugin(app, options) {
    const root = options.root ?? join(projectRoot, 'dist', 'web');
    const page = await readFile(join(root, 'index.html')).catch(() => undefined);
    const assets = new Map<string, WebAsset>();
    if (page) {
      for (const name of await readdir(join(root, 'assets'))) {
        assets.set(name, {
          body: await readFile(join(root, 'assets', name)),
          type: TYPES[extname(name)] ?? 'application/octet-stream',
        });
      }
    } else {
      app.log.warn({ root }, 'the web app is not built (npm run build): / answers 503 until it is');
    }
    app.decorate('webApp', { page, asset: (name: string) => assets.get(name) });
  },
  { name: 'web-app' },
);
