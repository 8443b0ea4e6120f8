import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** Names one running instance in shared state (leases, and the logs that mention them): host, pid and a random tail. */
export function newInstanceId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}
