import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema.ts',
  out: './drizzle',
  // The FTS5 table and its shadow tables come from a hand-written migration; drizzle-kit must not try to drop them.
  tablesFilter: ['ideas', 'idea_status_counts', 'performance_metrics', 'health_logs', 'webhook_deliveries'],
  dbCredentials: { url: process.env.TURSO_DATABASE_URL ?? 'file:./data/idea2spec.db' },
});
