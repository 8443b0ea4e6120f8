import { asc, eq, inArray } from 'drizzle-orm';
import type { Database } from './client.js';
import { UNFINISHED_STATUSES } from '../jobs/transitions.js';
import { ideas, type IdeaRow, type NewIdeaRow } from './schema.js';

export function createIdeaRepository(db: Database) {
  return {
    async insert(row: NewIdeaRow): Promise<IdeaRow> {
      const [inserted] = await db.insert(ideas).values(row).returning();
      return inserted;
    },

    async update(id: number, patch: Partial<Omit<NewIdeaRow, 'id'>>): Promise<void> {
      await db.update(ideas).set(patch).where(eq(ideas.id, id));
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
      return db.select().from(ideas).where(inArray(ideas.status, [...UNFINISHED_STATUSES])).orderBy(asc(ideas.id));
    },

    async remove(id: number): Promise<boolean> {
      const deleted = await db.delete(ideas).where(eq(ideas.id, id)).returning({ id: ideas.id });
      return deleted.length > 0;
    },
  };
}

export type IdeaRepository = ReturnType<typeof createIdeaRepository>;
