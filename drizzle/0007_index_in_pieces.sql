-- The indexes of spaceless scripts hold each idea in pieces, written by the application.
--
-- Migration 0005 made indexing cost what the text costs, but the bigram index still
-- took a finished spec in one INSERT, and the trigram index in the trigger of the
-- UPDATE that ends the job: at the output cap (1,000,000 Chinese characters) about a
-- second on the thread that serves every request.
--
-- * ideas_fts_bigram and ideas_fts_trigram now hold pieces of 8,192 characters
--   (src/db/bigram-index.ts): piece k of idea id has rowid id * 1024 + k, each piece
--   repeats the next one's first 512 characters (the longest search), so any term lies
--   whole in some piece. The application writes them, a few per transaction, with the
--   event loop served in between. Search combines the pieces by idea
--   (src/db/history-repository.ts); the pieces of an idea that has more than one carry
--   the status token 'split'.
-- * The trigram index leaves the triggers: ideas_bigram_pending (0005) now lists the
--   rows both indexes have to (re-)index, with the same triggers.
-- * Both indexes are emptied here and every row with a spaceless script is pending:
--   the service indexes them at its next start.
DROP TRIGGER `ideas_search_insert`;
--> statement-breakpoint
DROP TRIGGER `ideas_search_update`;
--> statement-breakpoint
DROP TRIGGER `ideas_search_delete`;
--> statement-breakpoint
DROP TRIGGER `ideas_bigram_delete`;
--> statement-breakpoint
CREATE TRIGGER `ideas_search_insert` AFTER INSERT ON `ideas` BEGIN
	INSERT INTO ideas_fts (rowid, user_input, generated_spec, status)
		VALUES (new.id, new.user_input, iif(new.status = 'processing', '', new.generated_spec), new.status);
END;
--> statement-breakpoint
CREATE TRIGGER `ideas_search_update` AFTER UPDATE OF user_input, generated_spec, status ON `ideas`
WHEN old.user_input IS NOT new.user_input OR old.status IS NOT new.status
  OR (old.generated_spec IS NOT new.generated_spec AND new.status <> 'processing')
BEGIN
	INSERT INTO ideas_fts (ideas_fts, rowid, user_input, generated_spec, status)
		VALUES ('delete', old.id, old.user_input, iif(old.status = 'processing', '', old.generated_spec), old.status);
	INSERT INTO ideas_fts (rowid, user_input, generated_spec, status)
		VALUES (new.id, new.user_input, iif(new.status = 'processing', '', new.generated_spec), new.status);
END;
--> statement-breakpoint
CREATE TRIGGER `ideas_search_delete` AFTER DELETE ON `ideas` BEGIN
	INSERT INTO ideas_fts (ideas_fts, rowid, user_input, generated_spec, status)
		VALUES ('delete', old.id, old.user_input, iif(old.status = 'processing', '', old.generated_spec), old.status);
END;
--> statement-breakpoint
CREATE TRIGGER `ideas_bigram_delete` AFTER DELETE ON `ideas` BEGIN
	DELETE FROM ideas_fts_bigram WHERE rowid IN (SELECT id FROM ideas_fts_bigram_docsize WHERE id BETWEEN old.id * 1024 AND old.id * 1024 + 1023);
	DELETE FROM ideas_fts_trigram WHERE rowid IN (SELECT id FROM ideas_fts_trigram_docsize WHERE id BETWEEN old.id * 1024 AND old.id * 1024 + 1023);
	DELETE FROM ideas_bigram_pending WHERE id = old.id;
END;
--> statement-breakpoint
INSERT INTO ideas_fts_bigram (ideas_fts_bigram) VALUES ('delete-all');
--> statement-breakpoint
INSERT INTO ideas_fts_trigram (ideas_fts_trigram) VALUES ('delete-all');
--> statement-breakpoint
INSERT INTO ideas_bigram_pending (id) SELECT id FROM ideas
	WHERE user_input GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*' OR (status <> 'processing' AND generated_spec GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*')
	ON CONFLICT (id) DO UPDATE SET version = version + 1;
