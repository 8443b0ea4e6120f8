/** A cheap guess at the idea's language, good enough to pick the drafter's headings. */
import type { Lang } from './labels.js';

// Function words: they identify Latin-script languages and are never key terms.
export const FUNCTION_WORDS: Readonly<Record<Lang, readonly string[]>> = {
  en: [
    'the',
    'and',
    'for',
    'with',
    'to',
    'of',
    'is',
    'a',
    'an',
    'that',
    'this',
    'i',
    'we',
    'my',
    'our',
    'from',
    'have',
    'will',
    'they',
    'their',
    'them',
    'there',
    'then',
    'than',
    'what',
    'when',
    'where',
    'which',
    'while',
    'would',
    'should',
    'could',
    'about',
    'into',
    'your',
    'also',
    'just',
    'like',
    'want',
    'wants',
    'need',
    'needs',
    'able',
    'allow',
    'allows',
    'using',
    'make',
    'makes',
    'some',
    'more',
    'most',
    'very',
    'each',
    'other',
    'every',
    'only',
    'help',
    'helps',
    'can',
  ],
  es: [
    'el',
    'los',
    'las',
    'una',
    'para',
    'con',
    'del',
    'por',
    'que',
    'y',
    'es',
    'un',
    'mi',
    'de',
    'como',
    'pero',
    'este',
    'esta',
    'estos',
    'estas',
    'unos',
    'unas',
    'donde',
    'cuando',
    'quiero',
    'queremos',
    'puede',
    'pueden',
    'sobre',
    'entre',
    'tiene',
    'tienen',
    'hacer',
    'también',
    'desde',
    'todo',
    'todos',
    'cada',
    'sus',
  ],
  fr: [
    'le',
    'les',
    'des',
    'une',
    'pour',
    'avec',
    'du',
    'et',
    'est',
    'qui',
    'dans',
    'un',
    'je',
    'mon',
    'de',
    'sont',
    'mais',
    'cette',
    'ces',
    'leur',
    'leurs',
    'nous',
    'vous',
    'elle',
    'elles',
    'peut',
    'peuvent',
    'faire',
    'aussi',
    'tout',
    'tous',
    'chaque',
    'entre',
    'comme',
    'veux',
    'voudrais',
    'aux',
  ],
  de: [
    'der',
    'die',
    'das',
    'und',
    'ist',
    'mit',
    'für',
    'ein',
    'eine',
    'den',
    'dem',
    'ich',
    'zu',
    'mein',
    'nicht',
    'einen',
    'einem',
    'einer',
    'oder',
    'aber',
    'auch',
    'sich',
    'sind',
    'wird',
    'werden',
    'kann',
    'können',
    'über',
    'unter',
    'durch',
    'diese',
    'dieser',
    'dieses',
    'ihre',
    'seine',
    'wenn',
    'dass',
    'möchte',
    'wir',
    'von',
  ],
  ru: [
    'который',
    'которые',
    'чтобы',
    'может',
    'могут',
    'этот',
    'эта',
    'это',
    'для',
    'как',
    'так',
    'также',
    'или',
    'есть',
    'будет',
    'хочу',
    'нужно',
    'можно',
    'которое',
    'которая',
  ],
  zh: [
    '一个',
    '可以',
    '我们',
    '他们',
    '这个',
    '那个',
    '用于',
    '能够',
    '进行',
    '通过',
    '以及',
    '如果',
    '因为',
    '所以',
    '自己',
    '什么',
    '帮助',
  ],
  ja: ['こと', 'もの', 'ため', 'できる', 'する', 'よう'],
  ko: ['그리고', '하는', '있는', '위한', '통해', '수'],
};

const LATIN_LANGS = ['en', 'es', 'fr', 'de'] as const;

const SCRIPTS = [
  ['cjk', /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['hangul', /\p{Script=Hangul}/u],
  ['cyrillic', /\p{Script=Cyrillic}/u],
  ['latin', /\p{Script=Latin}/u],
  ['other', /\p{L}/u],
] as const;
type Script = (typeof SCRIPTS)[number][0];

const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/u;

function dominantScript(text: string): Script {
  const counts = new Map<Script, number>();
  for (const ch of text) {
    const script = SCRIPTS.find(([, re]) => re.test(ch))?.[0];
    if (script) counts.set(script, (counts.get(script) ?? 0) + 1);
  }
  let best: Script = 'other';
  let bestCount = 0;
  for (const [script, count] of counts) {
    if (count > bestCount) [best, bestCount] = [script, count];
  }
  return best;
}

function latinLanguage(text: string): Lang {
  const words = text.toLowerCase().match(/\p{L}+/gu) ?? [];
  let best: Lang = 'en';
  let bestScore = 0;
  for (const lang of LATIN_LANGS) {
    const vocabulary = new Set(FUNCTION_WORDS[lang]);
    const score = words.filter((w) => vocabulary.has(w)).length;
    if (score > bestScore) [best, bestScore] = [lang, score];
  }
  return best;
}

/** A cheap guess, good enough to pick headings; anything unsupported gets English. */
export function detectLanguage(text: string): Lang {
  switch (dominantScript(text)) {
    case 'cjk':
      return KANA.test(text) ? 'ja' : 'zh';
    case 'hangul':
      return 'ko';
    case 'cyrillic':
      return 'ru';
    case 'latin':
      return latinLanguage(text);
    default:
      return 'en';
  }
}
