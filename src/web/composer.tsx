import { useState } from 'preact/hooks';
import type { GenerateAccepted } from '../client/index.js';
import { failure, useApp } from './context.js';

export const TEMPLATES = ['standard', 'lean', 'technical'] as const;
export type Template = (typeof TEMPLATES)[number];

/** The idea form: the idea (10–5000 characters after trimming, as the server counts them), template and model. */
export function Composer() {
  const app = useApp();
  const { t } = app;
  const [idea, setIdea] = useState('');
  const [template, setTemplate] = useState<Template>('standard');
  const [model, setModel] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const length = [...idea.trim()].length;
  const problem = length === 0 ? undefined : length < 10 ? t.ideaTooShort : length > 5000 ? t.ideaTooLong : undefined;
  const valid = length >= 10 && length <= 5000;

  const onSubmit = async (event: Event) => {
    event.preventDefault();
    if (!valid || busy) return;
    setBusy(true);
    setError(undefined);
    try {
      const accepted: GenerateAccepted = await app.client.submit(idea, {
        template,
        ...(model.trim() ? { model: model.trim() } : {}),
      });
      app.refreshHistory();
      app.navigate(`/ideas/${accepted.id}`);
    } catch (err) {
      setError(failure(app, err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form id="idea-form" class="card composer" onSubmit={onSubmit} noValidate>
      <label for="idea" class="big">
        {t.ideaLabel}
      </label>
      <p id="idea-hint" class="hint">
        {t.ideaHint}
      </p>
      <textarea
        id="idea"
        name="idea"
        rows={5}
        value={idea}
        onInput={(e) => setIdea(e.currentTarget.value)}
        aria-describedby="idea-hint idea-count"
        aria-invalid={problem ? true : undefined}
        aria-keyshortcuts="Control+Enter Meta+Enter"
      />
      <p id="idea-count" class={`hint count${problem ? ' bad' : ''}`} data-length={length}>
        {t.ideaCount(length)}
        {problem ? ` — ${problem}` : ''}
      </p>
      <div class="row">
        <div class="field">
          <label for="template">{t.template}</label>
          <select id="template" value={template} onChange={(e) => setTemplate(e.currentTarget.value as Template)}>
            {TEMPLATES.map((name) => (
              <option key={name} value={name}>
                {t.templates[name]}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="model">{t.model}</label>
          <input
            id="model"
            value={model}
            onInput={(e) => setModel(e.currentTarget.value)}
            aria-describedby="model-hint"
            autocomplete="off"
            spellcheck={false}
          />
          <p id="model-hint" class="hint">
            {t.modelHint}
          </p>
        </div>
      </div>
      <div class="actions">
        <button id="submit" type="submit" class="primary" disabled={!valid || busy}>
          {busy ? t.submitting : t.submit}
        </button>
      </div>
      {error ? (
        <p id="submit-error" class="error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}
