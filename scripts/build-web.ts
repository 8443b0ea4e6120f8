import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { projectRoot } from '../src/paths.js';

export const WEB_SOURCE = join(projectRoot, 'src', 'web');
export const WEB_OUT = join(projectRoot, 'dist', 'web');

export interface BuiltAsset {
  name: string;
  bytes: number;
  gzipBytes: number;
}

/**
 * Bundles the browser app (src/web) into `outDir`: `index.html` and `assets/<name>-<hash>.<ext>`.
 * Asset names carry a content hash, so the service can let browsers cache them for a year;
 * only the page (which names them) must be fetched again.
 */
export async function buildWeb(outDir = WEB_OUT): Promise<BuiltAsset[]> {
  await rm(outDir, { recursive: true, force: true });
  const assetsDir = join(outDir, 'assets');
  await mkdir(assetsDir, { recursive: true });
  const result = await build({
    absWorkingDir: projectRoot,
    entryPoints: { app: join(WEB_SOURCE, 'main.tsx') },
    outdir: assetsDir,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    // Browsers have WebSocket; the SDK reaches for `ws` only where they do not.
    external: ['ws'],
    metafile: true,
    legalComments: 'linked',
    logLevel: 'silent',
  });
  const outputs = Object.entries(result.metafile.outputs);
  const entry = outputs.find(([, output]) => output.entryPoint !== undefined);
  if (!entry) throw new Error('esbuild produced no entry script');
  const script = basename(entry[0]);
  const style = entry[1].cssBundle ? basename(entry[1].cssBundle) : undefined;
  const template = await readFile(join(WEB_SOURCE, 'index.html'), 'utf8');
  const page = template
    .replace('<!-- style -->', style ? `<link rel="stylesheet" href="/assets/${style}">` : '')
    .replace('<!-- script -->', `<script type="module" src="/assets/${script}"></script>`);
  await writeFile(join(outDir, 'index.html'), page);

  const assets: BuiltAsset[] = [];
  for (const [file] of outputs) {
    if (file.endsWith('.map')) continue;
    const body = await readFile(join(projectRoot, file));
    assets.push({
      name: relative(outDir, join(projectRoot, file)),
      bytes: body.length,
      gzipBytes: gzipSync(body).length,
    });
  }
  return assets;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const assets = await buildWeb();
  for (const asset of assets)
    console.log(
      `${asset.name}  ${(asset.bytes / 1024).toFixed(1)} KiB  (gzip ${(asset.gzipBytes / 1024).toFixed(1)} KiB)`,
    );
}
