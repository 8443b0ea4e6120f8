import { collectDefaultMetrics, Registry } from 'prom-client';

let registry: Registry | undefined;

/**
 * Node's default metrics (CPU, memory, GC, event-loop lag, handles) describe the
 * process, not one app instance, and each collector keeps a timer running for
 * good: so there is one registry of them per process, shared by every instance.
 */
export function processRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}
