import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, isTerminal, type IdeaDetail, type JobStatus } from '../client/index.js';
import type { Template } from './composer.js';
import { failure, isAbort, useApp } from './context.js';
import { advice, formatDuration } from './i18n.js';
import { StreamView, type Heading } from './stream-view.js';

type Transport = 'websocket' | 'sse' | 'polling' | 'reconnecting';
interface JobError {
  code: string;
  message: string;
}

/** One idea: its job followed live while it runs, then the finished spec with its contents and actions. */
export function IdeaView({ id }: { id: number }) {
  const app = useApp();
  const { t, client } = app;
  const specRef = useRef<HTMLDivElement>(null);
  const sectionRef = useRef<HTMLElement>(null);
  const [detail, setDetail] = useState<IdeaDetail>();
  const [missing, setMissing] = useState(id < 0);
  const [loadError, setLoadError] = useState<string>();
  const [status, setStatus] = useState<JobStatus>();
  const [attempt, setAttempt] = useState(0);
  const [transport, setTransport] = useState<Transport>();
  const [jobError, setJobError] = useState<JobError>();
  const [headings, setHeadings] = useState<Heading[]>([]);
  const [cancelling, setCancelling] = useState(false);
  const [note, setNote] = useState<string>();

  useEffect(() => {
    // On a phone the form fills the screen: bring the idea into view.
    if ((sectionRef.current?.getBoundingClientRect().top ?? 0) > innerHeight * 0.6)
      sectionRef.current?.scrollIntoView({ block: 'start' });
    if (id < 0) return;
    const view = new StreamView(specRef.current!);
    const abort = new AbortController();
    const { signal } = abort;

    const show = (idea: IdeaDetail) => {
      setDetail(idea);
      setStatus(idea.status);
      setAttempt(idea.attempts);
      setJobError(idea.error);
      if (idea.status === 'completed' || idea.generatedSpec) setHeadings(view.finish(idea.generatedSpec ?? ''));
      document.title = `${[...idea.userInput.trim()].slice(0, 60).join('')} — idea2spec`;
    };

    (async () => {
      let idea: IdeaDetail;
      try {
        idea = await client.getSpec(id, { signal });
      } catch (err) {
        if (isAbort(err) || signal.aborted) return;
        if (err instanceof ApiError && (err.status === 404 || err.status === 400)) return setMissing(true);
        return setLoadError(failure(app, err));
      }
      if (isTerminal(idea.status)) return show(idea);
      setDetail(idea);
      setStatus(idea.status);
      let seenAttempt: number | undefined;
      let wasLive = false;
      try {
        await client.followJob(idea.jobId, {
          signal,
          onTransport: (how) => {
            if (how === 'websocket') wasLive = true;
            // After the socket was live, any other transport means it is being won back.
            setTransport(how === 'websocket' ? 'websocket' : wasLive ? 'reconnecting' : how);
          },
          onUpdate: (event) => {
            // A retry writes the text again from the start.
            if (event.attempt !== seenAttempt) {
              seenAttempt = event.attempt;
              view.reset();
            }
            if (event.delta) view.append(event.delta);
            setStatus(event.status);
            setAttempt(event.attempt);
            if (event.error) setJobError(event.error);
          },
        });
        app.refreshHistory();
        setTransport(undefined);
        show(await client.getSpec(id, { signal }));
      } catch (err) {
        if (isAbort(err) || signal.aborted) return;
        setLoadError(failure(app, err));
      }
    })();
    return () => {
      abort.abort();
      view.stop();
    };
  }, [id, client]);

  const running = status !== undefined && !isTerminal(status);

  const cancel = async () => {
    if (!detail) return;
    setCancelling(true);
    try {
      await client.cancel(detail.jobId);
    } catch (err) {
      // Already finished: the follow reports how it ended.
      if (!(err instanceof ApiError && err.status === 409)) setNote(failure(app, err));
    } finally {
      setCancelling(false);
    }
  };

  const copy = async () => {
    if (!detail?.generatedSpec) return;
    try {
      await navigator.clipboard.writeText(detail.generatedSpec);
      setNote(t.copied);
    } catch {
      setNote(t.copyFailed);
    }
  };

  const download = async (event: MouseEvent) => {
    // A plain link cannot carry the API key; with one, the SDK fetches the file and the browser saves it.
    if (!app.apiKey || !detail) return;
    event.preventDefault();
    try {
      const file = await client.download(detail.id);
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([file.text], { type: 'text/markdown;charset=utf-8' }));
      link.download = file.fileName;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    } catch (err) {
      setNote(failure(app, err));
    }
  };

  const writeAgain = async () => {
    if (!detail) return;
    try {
      const accepted = await client.submit(detail.userInput, {
        template: detail.template as Template,
        ...(detail.model ? { model: detail.model } : {}),
      });
      app.refreshHistory();
      app.navigate(`/ideas/${accepted.id}`);
    } catch (err) {
      setNote(failure(app, err));
    }
  };

  const jump = (event: MouseEvent, heading: Heading) => {
    event.preventDefault();
    const target = document.getElementById(heading.id);
    target?.scrollIntoView({ block: 'start' });
    target?.focus({ preventScroll: true });
  };

  if (missing) {
    return (
      <section class="card" id="idea-view" aria-labelledby="idea-title">
        <h2 id="idea-title">{t.notFound}</h2>
        <p>
          <a href="/" onClick={(e) => (e.preventDefault(), app.navigate('/'))}>
            {t.backHome}
          </a>
        </p>
      </section>
    );
  }

  const offline = detail?.generator === 'offline';
  return (
    <section
      class="card"
      id="idea-view"
      ref={sectionRef}
      data-idea-id={id}
      aria-labelledby="idea-title"
      aria-busy={running}
    >
      <div class="job-head">
        <h2 id="idea-title">{t.specHeading}</h2>
        {status ? (
          <p id="job-status" class={`badge status-${status}`} data-status={status} role="status">
            {t.status[status]}
            {status === 'processing' && attempt > 0 ? ` · ${t.attempt(attempt)}` : ''}
          </p>
        ) : (
          <p class="hint">{t.loading}</p>
        )}
        {running && transport ? (
          <p id="transport" class={`badge transport-${transport}`} data-transport={transport}>
            {t.transport[transport]}
          </p>
        ) : null}
        {offline ? (
          <p id="offline" class="badge offline" title={t.offlineNote}>
            {t.offline}
          </p>
        ) : null}
      </div>
      {detail ? (
        <details class="idea-text">
          <summary>{t.ideaHeading}</summary>
          <p id="idea-input">{detail.userInput}</p>
        </details>
      ) : null}
      {offline ? <p class="hint offline-note">{t.offlineNote}</p> : null}
      {running ? (
        <div class="actions">
          <button type="button" id="cancel" onClick={cancel} disabled={cancelling}>
            {cancelling ? t.cancelling : t.cancel}
          </button>
        </div>
      ) : null}
      {status === 'failed' && jobError ? (
        <div id="job-error" class="error-box" role="alert">
          <h3>{t.failedTitle}</h3>
          <p>
            <code>{jobError.code}</code> {jobError.message}
          </p>
          <p>
            <strong>{t.whatToDo}:</strong> {advice(app.lang, jobError.code)}
          </p>
        </div>
      ) : null}
      {status === 'cancelled' ? (
        <p class="hint" id="cancelled-note">
          {t.cancelledNote}
        </p>
      ) : null}
      {loadError ? (
        <p class="error" role="alert">
          {t.error}: {loadError}
        </p>
      ) : null}
      {status === 'completed' && detail ? (
        <div class="actions" id="spec-actions">
          <button type="button" id="copy" onClick={copy} aria-keyshortcuts="c">
            {t.copy}
          </button>
          <a id="download" class="button" href={`/api/download/${detail.id}`} download onClick={download}>
            {t.download}
          </a>
          <button type="button" id="write-again" onClick={writeAgain}>
            {t.writeAgain}
          </button>
          {detail.processingTimeMs !== null && detail.processingTimeMs !== undefined ? (
            <span class="hint">{t.took(formatDuration(app.lang, detail.processingTimeMs))}</span>
          ) : null}
        </div>
      ) : null}
      {status !== 'completed' && isTerminal(status!) && detail ? (
        <div class="actions">
          <button type="button" id="write-again" onClick={writeAgain}>
            {t.writeAgain}
          </button>
        </div>
      ) : null}
      <p class="note" role="status" id="note">
        {note ?? ''}
      </p>
      <div class="spec-layout">
        {headings.length > 1 && status === 'completed' ? (
          <nav class="toc" id="toc" aria-labelledby="toc-title">
            <h3 id="toc-title">{t.contents}</h3>
            <ol>
              {headings.map((heading) => (
                <li key={heading.id} class={`level-${heading.level}`}>
                  <a href={`#${heading.id}`} onClick={(e) => jump(e, heading)}>
                    {heading.text}
                  </a>
                </li>
              ))}
            </ol>
          </nav>
        ) : null}
        <article id="spec" class="spec" ref={specRef} />
      </div>
    </section>
  );
}
