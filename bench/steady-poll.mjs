/**
 * Polls a URL on a fixed timetable, the way a page's setInterval does: one GET every
 * `intervalMs` for `seconds`, each sent at its time whether or not the one before has
 * answered (on up to four keep-alive connections), and prints each latency's summary
 * as JSON: { count, errors, p50, p99, max } in milliseconds, with fractions.
 *
 * autocannon's rate option sends a second's requests back to back at the start of
 * each second and then waits, which measures something else: a burst that happens to
 * meet a busy moment counts every request in it.
 *
 *   node bench/steady-poll.mjs <url> <seconds> [intervalMs = 20]
 */
import http from 'node:http';

const [url, seconds, intervalMs = '20'] = process.argv.slice(2);
if (!url || !seconds) {
  console.error('usage: steady-poll.mjs <url> <seconds> [intervalMs]');
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const latencies = [];
let errors = 0;

function poll() {
  const sent = performance.now();
  return new Promise((resolve) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) errors++;
          latencies.push(performance.now() - sent);
          resolve();
        });
      })
      .on('error', () => {
        errors++;
        resolve();
      });
  });
}

const start = performance.now();
const count = Math.floor((Number(seconds) * 1000) / Number(intervalMs));
const pending = [];
for (let i = 0; i < count; i++) {
  const due = start + i * Number(intervalMs);
  const wait = due - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  pending.push(poll());
}
await Promise.all(pending);
agent.destroy();
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
console.log(JSON.stringify({ count: latencies.length, errors, p50: at(0.5), p99: at(0.99), max: at(1) }));
