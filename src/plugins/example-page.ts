import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import fp from 'fastify-plugin';
import { projectRoot } from '../paths.js';

export interface PageAsset {
  body: string;
  type: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    examplePage: { asset(name: string): Promise<PageAsset | undefined> };
  }
}

const SOURCE = join(projectRoot, 'src');
const STATIC: Record<string, { file: string; type: string }> = {
  'index.html': { file: join(SOURCE, 'example/index.html'), type: 'text/html; charset=utf-8' },
  'page.css': { file: join(SOURCE, 'example/page.css'), type: 'text/css; charset=utf-8' },
};
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.map': 'application/json; charset=utf-8' };

/**
 * The example page and its assets. The SDK and the page script are bundled for
 * browsers by esbuild on the first request and kept in memory, so a service that
 * never serves the page never pays for it. `idea2spec-client.js` is the SDK alone,
 * an ES module any page of the same origin can import.
 */
export default fp(
  async function examplePagePlugin(app) {
    let bundle: Promise<Map<string, PageAsset>> | undefined;

    const bundled = () => {
      bundle ??= bundleForBrowsers().catch((err: unknown) => {
        bundle = undefined;
        throw err;
      });
      return bundle;
    };

    app.decorate('examplePage', {
      async asset(name: string): Promise<PageAsset | undefined> {
        const known = STATIC[name];
        if (known) return { body: await readFile(known.file, 'utf8'), type: known.type };
        return (await bundled()).get(name);
      },
    });
  },
  { name: 'example-page' },
);

async function bundleForBrowsers(): Promise<Map<string, PageAsset>> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { 'idea2spec-client': join(SOURCE, 'client/index.ts'), page: join(SOURCE, 'example/page.ts') },
    outdir: 'assets',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    // Browsers have WebSocket; the SDK reaches for `ws` only where they do not.
    external: ['ws'],
    write: false,
    logLevel: 'silent',
  });
  const assets = new Map<string, PageAsset>();
  for (const file of result.outputFiles) {
    const name = basename(file.path);
    assets.set(name, { body: file.text, type: TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream' });
  }
  return assets;
}
