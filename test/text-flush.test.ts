import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { build, fakeGemini, submit, tempDir, waitForJob } from './helper.js';

t.test(
  'a long spec streaming into its row is written a few times its length in all, not once a second in full',
  async (t) => {
    // 400,000 characters at 50,000 a second: written in full every second, the row would take 4.5 times that.
    const chars = 400_000;
    const file = join(tempDir(t), 'spec.md');
    const sentence = '系统必须让宠物主人在一分钟内完成注册并立即开始寻找附近的遛狗伙伴。\n';
    writeFileSync(file, sentence.repeat(Math.ceil(chars / sentence.length)).slice(0, chars));
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
    const { jobId } = (await submit(app, { idea: '一个帮助宠物主人寻找遛狗伙伴的手机应用' })).json();
    const job = await waitForJob(app, jobId);
    t.equal(job.status, 'completed');
    const { rows } = await app.dbClient.execute('SELECT chars FROM spec_writes');
    const writes = rows.map((r) => Number(r.chars));
    t.equal(writes.at(-1), chars, 'the whole spec is stored at the end');
    t.ok(writes.length >= 3, `the partial text is stored while the job runs (${writes.length} writes)`);
    const total = writes.reduce((a, b) => a + b, 0);
    t.ok(total <= 3 * chars, `${total.toLocaleString('en')} characters written in all`);
  },
);
