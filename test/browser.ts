import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { freePort } from './free-port.js';
import { baseUrl, build, type BuildOptions } from './helper.js';
import { webRoot } from './web-build.js';
import { projectRoot } from '../src/paths.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(projectRoot, 'artifacts');
/** For t.test's skip option: the browser tests need Debian's chromium (.ci/run installs it). */
export const noChromium = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

interface Tap {
  after(fn: () => unknown): void;
}

/**
 * The service with the built web app (offline generator unless the options say otherwise), on a port chosen
 * before it starts so the page's own origin can be allowed to open the WebSocket; allowOrigin: false leaves it
 * out, and the service refuses the browser's upgrade.
 */
export async function serve(t: Tap, options: BuildOptions & { allowOrigin?: boolean } = {}) {
  const root = await webRoot();
  if (options.allowOrigin === false) {
    const app = await build(t, { ...options, listen: true, webRoot: root });
    return { app, base: baseUrl(app) };
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const app = await build(t, { ...options, config: { ...options.config, ALLOWED_ORIGINS: base }, webRoot: root });
  await app.listen({ port, host: '127.0.0.1' });
  return { app, base };
}

export async function launch(t: Tap): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  t.after(() => browser.close());
  return browser;
}

/** A context whose pages record CSP violations (read them with cspViolations(page)). */
export async function newContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  await context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) =>
      seen.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`),
    );
  });
  return context;
}

/** Console errors, uncaught page errors and dialogs (alert, confirm…) seen by a page, as text. */
export function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  return problems;
}

export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core run inside the page (evaluated, not a <script>, so the page's CSP stays as it is): serious and critical violations. */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            context: Document,
            options: object,
          ): Promise<{
            violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }>;
          }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
