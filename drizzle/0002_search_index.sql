-- Full-text search over ideas and specs, and running totals per status.
-- Hand-written (drizzle-kit generate --custom): drizzle-kit cannot express FTS5
-- tables or triggers, and drizzle.config.ts's tablesFilter keeps it away from them.
--
-- Two FTS5 indexes, because no single built-in tokenizer serves every language:
--
-- * ideas_fts, tokenize 'porter unicode61 remove_diacritics 2': words. unicode61
--   splits on spaces and punctuation in any script and folds case and accents
--   (Café = cafe); porter reduces English word forms to one stem (running = run).
--   It cannot search Chinese or Japanese: they are written without spaces, so a
--   whole clause becomes one token and 家務 inside it is never a token of its own.
--   External content (the ideas table itself), so snippets come from the row.
--
-- * ideas_fts_trigram, tokenize 'trigram': substrings, for scripts written without
--   spaces between words (Han, kana, Hangul, Thai, Lao, Khmer, Myanmar). Every
--   three-character sequence is a token, so any substring of three or more
--   characters is a phrase query and needs no dictionary. Shorter queries (家務, 貓)
--   have no trigram of their own: the application expands them through
--   ideas_fts_trigram_vocab to the trigrams that begin with them ("家務的",
--   "家務分", …). Two spaces appended to each column make every one- or
--   two-character sequence the start of some trigram, even at the end of the text.
--   Only rows that contain such a script are indexed (the GLOB below; the same
--   ranges are in src/db/search-terms.ts), which keeps the index a fraction of the
--   size it would be over English text. Contentless with contentless_delete, since
--   the indexed text (padded, filtered) is not a column of ideas; its snippets are
--   cut by the application.
--
-- Both index the status as a third column, so a status filter is an FTS5 AND
-- rather than a lookup of every matching row.
--
-- A later migration that rebuilds the ideas table (drizzle's "__new_ideas" copy)
-- drops these triggers with it and must create them again.
CREATE VIRTUAL TABLE `ideas_fts` USING fts5(
	user_input, generated_spec, status,
	content='ideas', content_rowid='id',
	tokenize='porter unicode61 remove_diacritics 2'
);
--> statement-breakpoint
CREATE VIRTUAL TABLE `ideas_fts_trigram` USING fts5(
	user_input, generated_spec, status,
	content='', contentless_delete=1,
	tokenize='trigram'
);
--> statement-breakpoint
CREATE VIRTUAL TABLE `ideas_fts_trigram_vocab` USING fts5vocab(ideas_fts_trigram, row);
--> statement-breakpoint
CREATE TRIGGER `ideas_search_insert` AFTER INSERT ON `ideas` BEGIN
	INSERT INTO ideas_fts (rowid, user_input, generated_spec, status) VALUES (new.id, new.user_input, new.generated_spec, new.status);
	INSERT INTO ideas_fts_trigram (rowid, user_input, generated_spec, status)
		SELECT new.id, new.user_input || '  ', new.generated_spec || '  ', new.status
		WHERE new.user_input GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*'
		   OR new.generated_spec GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*';
END;
--> statement-breakpoint
CREATE TRIGGER `ideas_search_delete` AFTER DELETE ON `ideas` BEGIN
	INSERT INTO ideas_fts (ideas_fts, rowid, user_input, generated_spec, status) VALUES ('delete', old.id, old.user_input, old.generated_spec, old.status);
	DELETE FROM ideas_fts_trigram WHERE rowid = old.id;
END;
--> statement-breakpoint
-- The job writes its row many times while it runs; only a change of the indexed text or status re-indexes it.
CREATE TRIGGER `ideas_search_update` AFTER UPDATE OF user_input, generated_spec, status ON `ideas`
WHEN old.user_input IS NOT new.user_input OR old.generated_spec IS NOT new.generated_spec OR old.status IS NOT new.status
BEGIN
	INSERT INTO ideas_fts (ideas_fts, rowid, user_input, generated_spec, status) VALUES ('delete', old.id, old.user_input, old.generated_spec, old.status);
	INSERT INTO ideas_fts (rowid, user_input, generated_spec, status) VALUES (new.id, new.user_input, new.generated_spec, new.status);
	DELETE FROM ideas_fts_trigram WHERE rowid = old.id;
	INSERT INTO ideas_fts_trigram (rowid, user_input, generated_spec, status)
		SELECT new.id, new.user_input || '  ', new.generated_spec || '  ', new.status
		WHERE new.user_input GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*'
		   OR new.generated_spec GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*';
END;
--> statement-breakpoint
CREATE TRIGGER `ideas_counts_insert` AFTER INSERT ON `ideas` BEGIN
	INSERT INTO idea_status_counts (status, ideas, processing_ms_total, processing_count)
		VALUES (new.status, 1, coalesce(new.processing_time_ms, 0), new.processing_time_ms IS NOT NULL)
		ON CONFLICT (status) DO UPDATE SET
			ideas = ideas + 1,
			processing_ms_total = processing_ms_total + excluded.processing_ms_total,
			processing_count = processing_count + excluded.processing_count;
END;
--> statement-breakpoint
CREATE TRIGGER `ideas_counts_delete` AFTER DELETE ON `ideas` BEGIN
	UPDATE idea_status_counts SET
		ideas = ideas - 1,
		processing_ms_total = processing_ms_total - coalesce(old.processing_time_ms, 0),
		processing_count = processing_count - (old.processing_time_ms IS NOT NULL)
	WHERE status = old.status;
END;
--> statement-breakpoint
CREATE TRIGGER `ideas_counts_update` AFTER UPDATE OF status, processing_time_ms ON `ideas`
WHEN old.status IS NOT new.status OR old.processing_time_ms IS NOT new.processing_time_ms
BEGIN
	UPDATE idea_status_counts SET
		ideas = ideas - 1,
		processing_ms_total = processing_ms_total - coalesce(old.processing_time_ms, 0),
		processing_count = processing_count - (old.processing_time_ms IS NOT NULL)
	WHERE status = old.status;
	INSERT INTO idea_status_counts (status, ideas, processing_ms_total, processing_count)
		VALUES (new.status, 1, coalesce(new.processing_time_ms, 0), new.processing_time_ms IS NOT NULL)
		ON CONFLICT (status) DO UPDATE SET
			ideas = ideas + 1,
			processing_ms_total = processing_ms_total + excluded.processing_ms_total,
			processing_count = processing_count + excluded.processing_count;
END;
--> statement-breakpoint
-- Backfill: ideas written before this migration are counted and searchable at once.
DELETE FROM idea_status_counts;
--> statement-breakpoint
INSERT INTO idea_status_counts (status, ideas, processing_ms_total, processing_count)
	SELECT status, count(*), coalesce(sum(processing_time_ms), 0), count(processing_time_ms) FROM ideas GROUP BY status;
--> statement-breakpoint
INSERT INTO ideas_fts (ideas_fts) VALUES ('rebuild');
--> statement-breakpoint
INSERT INTO ideas_fts_trigram (rowid, user_input, generated_spec, status)
	SELECT id, user_input || '  ', generated_spec || '  ', status FROM ideas
	WHERE user_input GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*'
	   OR generated_spec GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*';
