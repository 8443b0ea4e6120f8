import { asc, eq, inArray } from 'drizzle-orm';
import { createBigramIndexer, type BigramIndexer } from './bigram-index.js';
import type { Database } from './client.js';
import { UNFINISHED_STATUSES } from '../jobs/transitions.js';
import { ideas, type IdeaRow, type NewIdeaRow } from './schema.js';

/**
 * The ideas table. A write resolves once the row is searchable as written (the
 * bigram index is kept by the application: see bigram-index.ts); a running job's
 * spec is not indexed until the job leaves 'processing', so its flushes index nothing.
 */
export function createIdeaRepository(db: Database, bigrams: BigramIndexer = createBigramIndexer(db.$client)) {
  return {
    async insert(row: NewIdeaRow): Promise<IdeaRow> {
      const [inserted] = await db.insert(ideas).values(row).returning();
      await bigrams.catchUp(inserted.id);
      return inserted;
    },

    async update(id: number, patch: Partial<Omit<NewIdeaRow, 'id'>>): Promise<void> {
      await db.update(ideas).set(patch).where(eq(ideas.id, id));
      await bigrams.catchUp(id);
    },

    async findById(id: number): Promise<IdeaRow | undefined> {
      return db.query.ideas.findFirst({ where: eq(ideas.id, id) });
    },

    async findByJobId(jobId: string): Promise<IdeaRow | undefined> {
      return db.query.ideas.findFirst({ where: eq(ideas.jobId, jobId) });
    },

    async findByIdempotencyKey(key: string): Promise<IdeaRow | undefined> {
      return db.query.ideas.findFirst({ where: eq(ideas.idempotencyKey, key) });
    },

    /** Jobs a previous process left behind, oldest first so they keep their place in line. */
    async listUnfinished(): Promise<IdeaRow[]> {
      return db
        .select()
        .from(ideas)
        .where(inArray(ideas.status, [...UNFINISHED_STATUSES]))
        .orderBy(asc(ideas.id));
    },

    async remove(id: number): Promise<boolean> {
      const deleted = await db.delete(ideas).where(eq(ideas.id, id)).returning({ id: ideas.id });
      return deleted.length > 0;
    },
  };
}

export type IdeaRepository = ReturnType<typeof createIdeaRepository>;
