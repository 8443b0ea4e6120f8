import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { CancelledError } from '../errors.js';
import type { AttemptInput, AttemptOutput, Generator } from '../generator.js';
import { draftOffline, OFFLINE_LABEL, splitIntoChunks } from './drafter.js';

/** The deterministic drafter for machines without model access, streamed like a model would. */
export function createOfflineGenerator(): Generator {
  return {
    name: 'offline',
    async run(input: AttemptInput): Promise<AttemptOutput> {
      const text = draftOffline(input.idea, input.template);
      for (const chunk of splitIntoChunks(text)) {
        if (input.signal.aborted) throw new CancelledError();
        input.onDelta(chunk);
        await yieldToLoop();
      }
      return { text, metadata: { offline: true, label: OFFLINE_LABEL } };
    },
  };
}
