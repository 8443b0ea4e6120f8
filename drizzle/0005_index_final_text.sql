-- Search indexing that costs what the text costs, once the text is final.
--
-- Until now the three search indexes were rewritten in full on every write of a
-- row's text, and a running job writes its text about once a second. For the
-- bigram index this cost the square of the text's length: ideas_bigram_source
-- took substr(text, i, 2) at every position, and SQLite finds position i of a
-- UTF-8 text by walking it from its start (one UPDATE of a 60,000-character
-- Chinese spec: 5 s, on the thread that serves every request).
--
-- * The spec of a row in status 'processing' is text still being written: the
--   indexes hold it as empty, and writing it re-indexes nothing. The idea is
--   indexed from the start; the spec when the job leaves 'processing' (completed,
--   failed, cancelled, or back to queued). ideas_bigram_source now says exactly
--   that: the text the indexes see for each row.
-- * The bigram index is written by the application (src/db/bigram-index.ts),
--   which splits the text in one pass. The triggers only record which rows it
--   has to (re-)index in ideas_bigram_pending; version counts the changes, so a
--   row that changes while the application indexes it stays pending. Every row
--   with a spaceless script is pending after this migration: the service indexes
--   them at its next start (about 30 s at 35,000 such rows).
-- * The bigram index also holds the words of the rows it covers, as ideas_fts
--   sees them (porter, unicode61 with remove_diacritics 2; the application turns
--   every character unicode61 would not keep into a space, so the wider category
--   list only lets the spaceless tokens through whole). A search that mixes words
--   and runs of a spaceless script (API 用户) is then one MATCH in one table,
--   which FTS5 answers by walking the doclists together, instead of a join of two
--   indexes that looked up one in the other for every match (seconds at 100,000
--   ideas). Every idea such a search can find holds a spaceless run, so it is in
--   this table.
--
-- ideas_fts must never be rebuilt from the ideas table ('rebuild'): it would index
-- the partial spec of running rows, which the triggers below then fail to delete.
--
-- ideas_fts has the ideas table as external content: its 'delete' must be given
-- the values it indexed, hence the same iif() on both sides.
DROP TRIGGER `ideas_search_insert`;
--> statement-breakpoint
DROP TRIGGER `ideas_search_update`;
--> statement-breakpoint
DROP TRIGGER `ideas_bigram_insert`;
--> statement-breakpoint
DROP TRIGGER `ideas_bigram_update`;
--> statement-breakpoint
DROP TRIGGER `ideas_bigram_delete`;
--> statement-breakpoint
DROP VIEW `ideas_bigram_source`;
--> statement-breakpoint
-- Rows running at the upgrade: indexed with their partial spec until now; from now on with none.
INSERT INTO ideas_fts (ideas_fts, rowid, user_input, generated_spec, status)
	SELECT 'delete', id, user_input, generated_spec, status FROM ideas WHERE status = 'processing';
--> statement-breakpoint
INSERT INTO ideas_fts (rowid, user_input, generated_spec, status)
	SELECT id, user_input, '', status FROM ideas WHERE status = 'processing';
--> statement-breakpoint
DELETE FROM ideas_fts_trigram WHERE rowid IN (SELECT id FROM ideas WHERE status = 'processing');
--> statement-breakpoint
INSERT INTO ideas_fts_trigram (rowid, user_input, generated_spec, status)
	SELECT id, user_input || '  ', '  ', status FROM ideas WHERE status = 'processing' AND user_input GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*';
--> statement-breakpoint
DROP TABLE `ideas_fts_bigram`;
--> statement-breakpoint
CREATE VIRTUAL TABLE `ideas_fts_bigram` USING fts5(
	user_input, generated_spec, status,
	content='', contentless_delete=1,
	tokenize="porter unicode61 remove_diacritics 2 categories 'L* M* N* P* S* Co Cn'"
);
--> statement-breakpoint
CREATE VIEW `ideas_bigram_source` AS
	SELECT id, user_input, iif(status = 'processing', '', generated_spec) AS generated_spec, status FROM ideas;
--> statement-breakpoint
CREATE TABLE `ideas_bigram_pending` (
	`id` integer PRIMARY KEY NOT NULL,
	`version` integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
INSERT INTO ideas_bigram_pending (id) SELECT id FROM ideas
	WHERE user_input GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*' OR (status <> 'processing' AND generated_spec GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*');
--> statement-breakpoint
CREATE TRIGGER `ideas_search_insert` AFTER INSERT ON `ideas` BEGIN
	INSERT INTO ideas_fts (rowid, user_input, generated_spec, status)
		VALUES (new.id, new.user_input, iif(new.status = 'processing', '', new.generated_spec), new.status);
	INSERT INTO ideas_fts_trigram (rowid, user_input, generated_spec, status)
		SELECT new.id, new.user_input || '  ', iif(new.status = 'processing', '', new.generated_spec) || '  ', new.status
		WHERE new.user_input GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*'
		   OR (new.status <> 'processing' AND new.generated_spec GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*');
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
	DELETE FROM ideas_fts_trigram WHERE rowid = old.id;
	INSERT INTO ideas_fts_trigram (rowid, user_input, generated_spec, status)
		SELECT new.id, new.user_input || '  ', iif(new.status = 'processing', '', new.generated_spec) || '  ', new.status
		WHERE new.user_input GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*'
		   OR (new.status <> 'processing' AND new.generated_spec GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*');
END;
--> statement-breakpoint
CREATE TRIGGER `ideas_bigram_insert` AFTER INSERT ON `ideas` BEGIN
	INSERT INTO ideas_bigram_pending (id) VALUES (new.id) ON CONFLICT (id) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `ideas_bigram_update` AFTER UPDATE OF user_input, generated_spec, status ON `ideas`
WHEN old.user_input IS NOT new.user_input OR old.status IS NOT new.status
  OR (old.generated_spec IS NOT new.generated_spec AND new.status <> 'processing')
BEGIN
	INSERT INTO ideas_bigram_pending (id) VALUES (new.id) ON CONFLICT (id) DO UPDATE SET version = version + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `ideas_bigram_delete` AFTER DELETE ON `ideas` BEGIN
	DELETE FROM ideas_fts_bigram WHERE rowid = old.id;
	DELETE FROM ideas_bigram_pending WHERE id = old.id;
END;
