import t from 'tap';
import { overall, readHealth, readRoutes } from '../scripts/ops/monitor-sample.js';

// The monitor must read what the service reports however the summary is laid out.
const CONTRACT = [
  { route: '/api/health', method: 'GET', count: 90, errorRate: 0, p50: 1, p95: 3, p99: 5 },
  { route: '/api/generate', method: 'POST', count: 10, errorRate: 0.1, p50: 21, p95: 40, p99: 80 },
];

t.test('per-route figures from the shapes a summary may take', async (t) => {
  const expected = [
    { route: 'GET /api/health', count: 90, errorRate: 0, p50: 1, p95: 3, p99: 5 },
    { route: 'POST /api/generate', count: 10, errorRate: 0.1, p50: 21, p95: 40, p99: 80 },
  ];
  t.same(readRoutes(CONTRACT), expected, 'a bare array');
  t.same(readRoutes({ window: '15m', routes: CONTRACT }), expected, '{routes: […]}');
  t.same(readRoutes({ data: CONTRACT }), expected, '{data: […]}');
  t.same(
    readRoutes({
      'GET /api/health': { count: 90, errors: 0, latency: { p50: 1, p95: 3, p99: 5 } },
      'POST /api/generate': { requests: 10, errorRate: 10, p50Ms: 21, p95Ms: 40, p99Ms: 80 },
    }),
    [
      { route: 'GET /api/health', count: 90, errorRate: 0, p50: 1, p95: 3, p99: 5 },
      { route: 'POST /api/generate', count: 10, errorRate: 0.1, p50: 21, p95: 40, p99: 80 },
    ],
    'keyed by route, nested latency, percent error rate',
  );
  t.same(readRoutes('not json'), []);
  t.same(readRoutes({ routes: [{ route: '/x' }] }), [], 'entries without a count are not routes');
});

t.test('the service as a whole', async (t) => {
  t.same(overall(readRoutes(CONTRACT)), { requests: 100, errorRate: 0.01, p50: 3, p95: 40, p99: 80 });
  t.same(overall([]), { requests: undefined, errorRate: undefined, p50: undefined, p95: undefined, p99: undefined });
});

t.test('memory in bytes or megabytes', async (t) => {
  t.same(readHealth({ status: 'OK', system: { memory: { rss: 100 * 1024 * 1024, heapUsed: 50 * 1024 * 1024 } } }), {
    health: 'OK',
    rssMb: 100,
    heapUsedMb: 50,
  });
  t.same(readHealth({ status: 'DEGRADED', system: { memory: { rssMb: 80.5, heapUsedMb: 30 } } }), {
    health: 'DEGRADED',
    rssMb: 80.5,
    heapUsedMb: 30,
  });
  t.same(readHealth({ status: 'DOWN' }), { health: 'DOWN', rssMb: undefined, heapUsedMb: undefined });
});
