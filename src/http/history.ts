import { IDEA_CHARS, type HistoryStats, type SummaryRow } from '../db/history-repository.js';
import type { HistoryStatsResponse, IdeaSummary } from '../schemas/history.js';
import { isoTime } from '../time.js';
import { ideaRecordFields } from './ideas.js';
import { cut, snippetHtml, specPreview } from './preview.js';

export function toIdeaSummary(row: SummaryRow): IdeaSummary {
  return {
    ...ideaRecordFields(row),
    idea: cut(row.idea, IDEA_CHARS),
    preview: specPreview(row.specHead),
    ...(row.snippet !== undefined ? { snippet: snippetHtml(row.snippet) } : {}),
  };
}

export function toStatsResponse(stats: HistoryStats, now: number): HistoryStatsResponse {
  return {
    total: stats.total,
    byStatus: stats.byStatus,
    processingTime: stats.processing,
    perDay: stats.perDay,
    generatedAt: isoTime(now),
  };
}
