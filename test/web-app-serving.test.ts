import t from 'tap';
import { build, tempDir } from './helper.js';
import { webRoot } from './web-build.js';

t.test(
  'the page and its hashed assets: no-store for the page, a year for the assets, nothing else served',
  async (t) => {
    const app = await build(t, { webRoot: await webRoot() });
    const page = await app.inject({ method: 'GET', url: '/' });
    t.equal(page.statusCode, 200);
    t.equal(page.headers['cache-control'], 'no-store');
    const deep = await app.inject({ method: 'GET', url: '/ideas/42' });
    t.equal(deep.body, page.body, '/ideas/:id is the same page (the app reads the path)');

    const names = [...page.body.matchAll(/(?:src|href)="\/assets\/([^"]+)"/g)].map((m) => m[1]);
    t.equal(names.length, 2, 'one script and one stylesheet');
    for (const name of names) {
      t.match(name, /^app-[A-Z0-9]{8}\.(js|css)$/, `${name} carries a content hash`);
      const asset = await app.inject({ method: 'GET', url: `/assets/${name}` });
      t.equal(asset.statusCode, 200, name);
      t.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable', name);
      t.match(asset.headers['content-type'], name.endsWith('.js') ? 'text/javascript' : 'text/css', name);
    }
    t.notMatch(page.body, /<script>|<style>|\son\w+=/i, 'no inline script, style or handler');
    t.notMatch(page.body, /https?:\/\//, 'nothing from another origin');

    for (const url of ['/assets/app-NOTTHERE.js', '/assets/index.html', '/ideas/1/2']) {
      t.equal((await app.inject({ method: 'GET', url })).statusCode, 404, `${url} is not found`);
    }
    for (const url of ['/assets/..%2Fpackage.json', '/assets/.hidden']) {
      t.equal((await app.inject({ method: 'GET', url })).statusCode, 400, `${url} is not an asset name`);
    }
  },
);

t.test('without a build, / says how to make one', async (t) => {
  const app = await build(t, { webRoot: tempDir(t) });
  const res = await app.inject({ method: 'GET', url: '/' });
  t.equal(res.statusCode, 503);
  t.equal(res.headers['cache-control'], 'no-store');
  t.match(res.body, 'npm run build');
  t.equal((await app.inject({ method: 'GET', url: '/api/health' })).statusCode, 200, 'the API works all the same');
});
