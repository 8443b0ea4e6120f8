import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { build, fakeGemini, submit, tempDir, waitFor, waitForJob } from './helper.js';

t.test(
  'while a long spec streams, its row holds a preview of its start; the whole text is written once, at the end',
  async (t) => {
    // 400,000 characters at 50,000 a second: written in full every second, the row would take 4.5 times that.
    const chars = 400_000;
    const preview = 100_000;
    const file = join(tempDir(t), 'spec.md');
    const sentence = '系统必须让宠物主人在一分钟内完成注册并立即开始寻找附近的遛狗伙伴。\n';
    const text = sentence.repeat(Math.ceil(chars / sentence.length)).slice(0, chars);
    writeFileSync(file, text);
    const fake = fakeGemini(t, 'text-file', {
      GEMINI_FAKE_TEXT_FILE: file,
      GEMINI_FAKE_CHUNK_CHARS: '5000',
      GEMINI_FAKE_DELAY_MS: '100',
    });
    const app = await build(t, { config: fake.config, env: fake.env });
    await app.dbClient.executeMultiple(`
      CREATE TABLE spec_writes (chars INTEGER NOT NULL);
      CREATE TRIGGER spec_writes AFTER UPDATE OF generated_spec ON ideas WHEN new.generated_spec IS NOT old.generated_spec
      BEGIN INSERT INTO spec_writes VALUES (length(new.generated_spec)); END;`);
    const { jobId, id } = (await submit(app, { idea: '一个帮助宠物主人寻找遛狗伙伴的手机应用' })).json();

    // Past the preview, the live status has the whole text so far; the stored idea has its start.
    const live = await waitFor(
      async () => {
        const status = (await app.inject({ url: `/api/job/${jobId}/status` })).json();
        return status.status === 'processing' && status.text.length > preview + 50_000 ? status : undefined;
      },
      { what: 'the text to pass the preview', timeoutMs: 20_000 },
    );
    t.equal(live.text, text.slice(0, live.text.length), 'polling the job gives the live text');
    const stored = (await app.inject({ url: `/api/spec/${id}` })).json();
    t.equal(stored.generatedSpec, text.slice(0, preview), 'the row holds the first 100,000 characters');

    const job = await waitForJob(app, jobId);
    t.equal(job.status, 'completed');
    const { rows } = await app.dbClient.execute('SELECT chars FROM spec_writes');
    const writes = rows.map((r) => Number(r.chars));
    t.equal(writes.at(-1), chars, 'the whole spec is stored at the end');
    t.ok(writes.length >= 3, `the preview is stored while the job runs (${writes.length} writes)`);
    t.same(
      writes.filter((n) => n > preview),
      [chars],
      'nothing longer than the preview is written before the end',
    );
  },
);
