-- One- and two-character searches in scripts written without spaces (家, 家務, 가족),
-- which the trigram index of 0002 has no token for. Until now such a query was
-- expanded through ideas_fts_trigram_vocab into the trigrams that start with it:
-- reading the vocabulary reads every posting of those trigrams (~9 ms for 用户 at
-- 100,000 ideas, growing with the table), and keeping only the 128 most frequent
-- trigrams could miss an idea whose only occurrence was followed by a rarer one.
--
-- ideas_fts_bigram holds, for every character of such a script, the character
-- itself and, when the next character is of such a script too, the pair: 分配家務
-- is indexed as "分 分配 配 配家 家 家務 務". A one- or two-character query is then
-- one token: its doclist is read newest first and the search stops at the rank
-- window, like a word in ideas_fts, and bm25 counts one token's documents, not a
-- hundred trigrams'. Queries of three characters or more stay with the trigrams.
--
-- unicode61 splits only at spaces here: the categories list every category found
-- in the ranges below (Thai vowel signs are M*, CJK radicals S*, unassigned code
-- points Cn), so a token is exactly the characters the view put in it. The view
-- holds the tokenisation once, for the triggers and the backfill; the character
-- class is the one of 0002 and of SPACELESS_RANGES in src/db/search-terms.ts.
-- LIMIT -1 keeps SQLite from merging the inner SELECT into the outer one, which
-- would take each pair out of the text again for every use (twice the cost).
CREATE VIRTUAL TABLE `ideas_fts_bigram` USING fts5(
	user_input, generated_spec, status,
	content='', contentless_delete=1,
	tokenize="unicode61 remove_diacritics 0 categories 'L* M* N* P* S* Co Cn'"
);
--> statement-breakpoint
CREATE VIEW `ideas_bigram_source` AS
	SELECT id,
		(SELECT group_concat(iif(pair GLOB '[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯][ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]', substr(pair, 1, 1) || ' ' || pair, substr(pair, 1, 1)), ' ')
		FROM (SELECT substr(user_input, value, 2) AS pair FROM generate_series(1, length(user_input)) LIMIT -1) WHERE pair GLOB '[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*') AS user_input,
		(SELECT group_concat(iif(pair GLOB '[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯][ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]', substr(pair, 1, 1) || ' ' || pair, substr(pair, 1, 1)), ' ')
		FROM (SELECT substr(generated_spec, value, 2) AS pair FROM generate_series(1, length(generated_spec)) LIMIT -1) WHERE pair GLOB '[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*') AS generated_spec,
		status
	FROM ideas
	WHERE user_input GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*' OR generated_spec GLOB '*[ก-໿က-႟ᄀ-ᇿក-៿⺀-⿟々-〇ぁ-ヿㄱ-ㆎㇰ-ㇿ㐀-䶿一-鿿가-힯ｦ-ﾟ𠀀-𲎯]*';
--> statement-breakpoint
CREATE TRIGGER `ideas_bigram_insert` AFTER INSERT ON `ideas` BEGIN
	INSERT INTO ideas_fts_bigram (rowid, user_input, generated_spec, status) SELECT id, user_input, generated_spec, status FROM ideas_bigram_source WHERE id = new.id;
END;
--> statement-breakpoint
CREATE TRIGGER `ideas_bigram_delete` AFTER DELETE ON `ideas` BEGIN
	DELETE FROM ideas_fts_bigram WHERE rowid = old.id;
END;
--> statement-breakpoint
CREATE TRIGGER `ideas_bigram_update` AFTER UPDATE OF user_input, generated_spec, status ON `ideas`
WHEN old.user_input IS NOT new.user_input OR old.generated_spec IS NOT new.generated_spec OR old.status IS NOT new.status
BEGIN
	DELETE FROM ideas_fts_bigram WHERE rowid = old.id;
	INSERT INTO ideas_fts_bigram (rowid, user_input, generated_spec, status) SELECT id, user_input, generated_spec, status FROM ideas_bigram_source WHERE id = new.id;
END;
--> statement-breakpoint
INSERT INTO ideas_fts_bigram (rowid, user_input, generated_spec, status) SELECT id, user_input, generated_spec, status FROM ideas_bigram_source;
--> statement-breakpoint
DROP TABLE `ideas_fts_trigram_vocab`;
