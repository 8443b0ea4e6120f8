import { createClient, Idea2SpecError, type JobEvent, type Transport } from '../client/index.js';

/** The example page: submit an idea with the SDK and show the specification as it is written. */
const client = createClient({ baseUrl: window.location.origin });

const form = byId<HTMLFormElement>('idea-form');
const ideaInput = byId<HTMLTextAreaElement>('idea');
const submit = byId<HTMLButtonElement>('submit');
const cancel = byId<HTMLButtonElement>('cancel');
const download = byId<HTMLAnchorElement>('download');
const status = byId<HTMLParagraphElement>('status');
const transport = byId<HTMLParagraphElement>('transport');
const spec = byId<HTMLPreElement>('spec');

let jobId: string | undefined;

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void generate(ideaInput.value);
});

cancel.addEventListener('click', () => {
  if (jobId) void client.cancel(jobId).catch(() => undefined);
});

async function generate(idea: string): Promise<void> {
  submit.disabled = true;
  download.hidden = true;
  spec.textContent = '';
  showStatus('submitting', 'Submitting…');
  let attempt: number | undefined;
  try {
    const done = await client.generateSpec(idea, {
      onAccepted: (accepted) => {
        jobId = accepted.jobId;
        cancel.hidden = false;
      },
      onTransport: (how: Transport) => {
        transport.dataset.transport = how;
        transport.textContent = { websocket: 'Live over WebSocket', sse: 'Live over Server-Sent Events (the WebSocket is unavailable)', polling: 'Live by polling (the WebSocket is unavailable)' }[how];
      },
      onUpdate: (update: JobEvent) => {
        // A retry starts the text again from empty.
        if (update.attempt !== attempt) {
          attempt = update.attempt;
          spec.textContent = '';
        }
        if (update.delta) spec.append(update.delta);
        showStatus(update.status, update.message);
      },
    });
    spec.textContent = done.generatedSpec;
    showStatus('completed', `Specification ready (${done.outputLength} characters).`);
    download.href = `/api/download/${done.id}`;
    download.hidden = false;
  } catch (err) {
    const code = err instanceof Idea2SpecError ? err.code : 'ERROR';
    showStatus(code === 'JOB_CANCELLED' ? 'cancelled' : 'failed', `${code}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    submit.disabled = false;
    cancel.hidden = true;
    jobId = undefined;
  }
}

function showStatus(state: string, text: string): void {
  status.dataset.status = state;
  status.textContent = text;
}

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}
