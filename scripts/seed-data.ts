/**
 * Synthetic but realistic ideas for `npm run db:seed` and the history benchmark:
 * English and Chinese product ideas with ~2 KB Markdown specs, built from word
 * pools with a Zipf-like spread so that some words appear in almost every row
 * and others in a handful — the shape full-text search has to cope with.
 * Deterministic for a given seed, so benchmark runs are comparable.
 */
import type { NewIdeaRow } from '../src/db/schema.js';
import { DAY_MS } from '../src/time.js';

/** mulberry32: small, fast and good enough to spread words; not for anything secret. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EN = {
  products: [
    'A mobile app',
    'A web platform',
    'A browser extension',
    'A marketplace',
    'A chatbot',
    'A booking service',
    'A subscription box',
    'A community forum',
    'A scheduling tool',
    'A dashboard',
    'A smart speaker skill',
    'A desktop app',
    'A learning platform',
    'A payment service',
    'A tracking app',
  ],
  audiences: [
    'dog owners',
    'busy parents',
    'small restaurants',
    'freelance designers',
    'university students',
    'retired teachers',
    'local farmers',
    'indie game developers',
    'nurses on night shifts',
    'amateur runners',
    'tenants in shared flats',
    'volunteer firefighters',
    'language learners',
    'hobby gardeners',
    'remote teams',
    'wedding planners',
    'cyclists',
    'book clubs',
    'home bakers',
    'neighbours',
  ],
  goals: [
    'find walking partners nearby',
    'share household chores fairly',
    'plan weekly meals on a budget',
    'swap tools with each other',
    'book last-minute appointments',
    'track their training progress',
    'split shared expenses',
    'organise carpools to school',
    'sell surplus vegetables',
    'find a quiet place to study',
    'practise conversation with native speakers',
    'manage recurring invoices',
    'coordinate volunteer rotas',
    'discover events this weekend',
    'keep plants alive while travelling',
    'report broken street lights',
    'rent out unused parking spaces',
    'compare repair quotes',
    'collect recipes from grandparents',
    'reduce food waste',
  ],
  extras: [
    'with offline support',
    'with a reward system',
    'using GPS tracking',
    'with reminders by text message',
    'with a shared calendar',
    'with photo uploads',
    'with ratings and reviews',
    'with a weekly summary email',
    'with voice input',
    'with a dark mode for night use',
    'that works without an account',
    'with payments through the app',
    'with a Chinese interface (中文界面) for overseas users',
  ],
  // Ranked most to least common: the tail words are the "rare terms" of the benchmark.
  topics: [
    'privacy',
    'notifications',
    'analytics',
    'accessibility',
    'onboarding',
    'moderation',
    'localisation',
    'subscriptions',
    'gamification',
    'integrations',
    'leaderboards',
    'geofencing',
    'barcode scanning',
    'carbon footprint',
    'sign language',
    'braille output',
    'beekeeping',
    'falconry',
    'lighthouse keepers',
    'quokka sanctuaries',
  ],
  sentences: [
    'The system must let {audience} sign up in under a minute and start to {goal} right away.',
    'Users receive a notification when something they follow changes, and can mute it per item.',
    'Every list supports search, filters and sorting, and remembers the last view of each user.',
    'Data is encrypted in transit and at rest; users can export or delete everything they own.',
    'The first release focuses on {topic}; everything else is explicitly out of scope.',
    'Administrators can review reports, hide abusive content and see an audit log of their actions.',
    'The interface works on small phones and large screens and meets WCAG 2.1 AA.',
    'Running costs must stay below the revenue of the smallest paying plan.',
    'An onboarding checklist explains {topic} in three short steps.',
    'Performance: 95% of user actions complete within one second under the expected load.',
    'Success means that 40% of new users come back in their second week.',
    'Open question: how should {topic} work for users who share one device?',
  ],
};

const ZH = {
  // As Chinese technical writing does, some name products and techniques in Latin script, with or without a space.
  products: [
    '一个手机应用',
    '一个网页平台',
    '一个小程序',
    '一個線上市集',
    '一个聊天机器人',
    '一個預約服務',
    '一个社区论坛',
    '一个排班工具',
    '一個學習平台',
    '一个记账工具',
    '一个iOS App',
    '一个 Android 应用',
    '一个 SaaS 平台',
    '一款AI助手',
  ],
  audiences: [
    '宠物主人',
    '双职工家庭',
    '小餐馆老板',
    '自由设计师',
    '大学生',
    '退休教师',
    '本地农户',
    '独立游戏开发者',
    '夜班护士',
    '跑步爱好者',
    '合租的租客',
    '語言學習者',
    '園藝愛好者',
    '远程团队',
    '婚礼策划师',
  ],
  goals: [
    '寻找附近的遛狗伙伴',
    '公平分配家務',
    '按预算规划每周菜单',
    '互相借用工具',
    '预约临时服务',
    '记录训练进度',
    '分摊共同开支',
    '组织拼车上学',
    '出售多余的蔬菜',
    '找到安静的自习地点',
    '和母语者练习对话',
    '管理定期发票',
    '協調志工排班',
    '發現本週末的活動',
    '出差时照顾植物',
    '减少食物浪费',
  ],
  extras: [
    '支持离线使用',
    '带有积分奖励',
    '使用 GPS 定位',
    '通过短信提醒',
    '提供共享日历',
    '支持上传照片',
    '带有评分和评论',
    '每周发送摘要邮件',
    '支持语音输入',
    '提供开放 API',
    '支持 Apple Pay 付款',
    '接入微信和 Slack 通知',
  ],
  topics: [
    '隐私',
    '通知',
    '数据分析',
    '无障碍',
    '新手引导',
    '内容审核',
    '本地化',
    '订阅',
    '游戏化',
    '第三方集成',
    '排行榜',
    '地理围栏',
    '扫码',
    '碳足迹',
    '手语',
    '盲文输出',
    '养蜂',
    '驯鹰',
    '灯塔看守人',
    '短尾矮袋鼠保护区',
  ],
  sentences: [
    '系统必须让{audience}在一分钟内完成注册，并立即开始{goal}。',
    '当用户关注的内容发生变化时会收到通知，并且可以逐项关闭。',
    '每个列表都支持搜索、筛选和排序，并记住每位用户上次的视图。',
    '数据在传输和存储时均加密；用户可以导出或删除自己的全部数据。',
    '首个版本专注于{topic}，其他内容明确不在范围内。',
    '管理员可以审核举报、隐藏违规内容，并查看操作审计日志。',
    '界面适配小屏手机和大屏设备，并符合 WCAG 2.1 AA 标准。',
    '运营成本必须低于最小付费方案的收入。',
    '新手引导用三个简短步骤说明{topic}。',
    '性能：在预期负载下，95% 的用户操作在 1 秒内完成。',
    '成功标准：40% 的新用户在第二周再次使用。',
    '待解决问题：多位用户共用一台设备时，{topic}应如何处理？',
    '通过 REST API 与第三方系统同步数据，接口响应时间低于 200 ms。',
    'iOS 和 Android App 共用同一套后端API，{topic}的设置在两端保持一致。',
  ],
};

const EN_HEADINGS = [
  'Overview',
  'Users and Scenarios',
  'Functional Requirements',
  'Non-functional Requirements',
  'Open Questions',
];
const ZH_HEADINGS = ['概述', '用户与场景', '功能需求', '非功能需求', '待解决问题'];
// Every spec ends with milestones, as real ones do: it puts "MVP" in almost every row.
const EN_MILESTONES = [
  '## Milestones',
  '',
  '1. M1 — Prototype: the first scenario works end to end for one user.',
  '2. M2 — MVP: every MUST requirement is met; first real users.',
  '',
];
const ZH_MILESTONES = [
  '## 里程碑',
  '',
  '1. M1 —— 原型：首个场景可供单个用户端到端使用。',
  '2. M2 —— MVP：满足所有必须需求；迎来首批真实用户。',
  '',
];

const STATUSES = [
  { status: 'completed', weight: 0.93 },
  { status: 'failed', weight: 0.05 },
  { status: 'cancelled', weight: 0.02 },
] as const;

const SPEC_TARGET_BYTES = 2048;

export interface SeedOptions {
  /** Share of ideas written in Chinese (default 0.35). */
  chineseShare?: number;
  seed?: number;
  /** Ideas are spread over this many days before `now`, oldest first (default 365). */
  days?: number;
  now?: number;
}

/** A function that returns the n-th idea of a history of `total` ideas, oldest first. */
export function ideaFactory(total: number, options: SeedOptions = {}) {
  const rand = random(options.seed ?? 42);
  const now = options.now ?? Date.now();
  const spanMs = (options.days ?? 365) * DAY_MS;
  const chineseShare = options.chineseShare ?? 0.35;
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  // Zipf-like: the k-th topic is chosen with weight 1/k^2.5, so the last ones are rare.
  const zipf = (list: readonly string[]) => {
    const weights = list.map((_, k) => 1 / (k + 1) ** 2.5);
    const sum = weights.reduce((a, b) => a + b, 0);
    return () => {
      let r = rand() * sum;
      for (let k = 0; k < list.length; k++) if ((r -= weights[k]) <= 0) return list[k];
      return list[list.length - 1];
    };
  };
  const enTopic = zipf(EN.topics);
  const zhTopic = zipf(ZH.topics);

  return (n: number): NewIdeaRow => {
    const chinese = rand() < chineseShare;
    const pool = chinese ? ZH : EN;
    const topic = chinese ? zhTopic() : enTopic();
    const audience = pick(pool.audiences);
    const goal = pick(pool.goals);
    const idea = chinese
      ? `${pick(pool.products)}，帮助${audience}${goal}，${pick(pool.extras)}，重点是${topic}。`
      : `${pick(pool.products)} that helps ${audience} ${goal}, ${pick(pool.extras)}, with a focus on ${topic}.`;
    const fill = (s: string) =>
      s
        .replace('{audience}', audience)
        .replace('{goal}', goal)
        .replace('{topic}', chinese ? zhTopic() : enTopic());
    const headings = chinese ? ZH_HEADINGS : EN_HEADINGS;
    const parts = [`# ${idea.slice(0, 60)}`, '', `## ${headings[0]}`, '', idea, ''];
    for (let h = 1, bytes = 0; bytes < SPEC_TARGET_BYTES - 200; h++) {
      const section = [`## ${headings[h % headings.length]}`, ''];
      for (let i = 0; i < 3; i++) section.push(`- ${fill(pick(pool.sentences))}`);
      section.push('');
      parts.push(...section);
      bytes = Buffer.byteLength(parts.join('\n'));
    }
    parts.push(...(chinese ? ZH_MILESTONES : EN_MILESTONES));
    const spec = parts.join('\n');

    let r = rand();
    const { status } = STATUSES.find((s) => (r -= s.weight) <= 0) ?? STATUSES[0];
    const createdAt = Math.round(now - spanMs + (spanMs * (n + 1)) / total);
    const processingTimeMs = Math.round(4000 * Math.exp(rand() * 2.5));
    const finished = createdAt + processingTimeMs;
    return {
      jobId: uuidFrom(rand),
      userInput: idea,
      generatedSpec: status === 'completed' ? spec : '',
      status,
      template: pick(['standard', 'lean', 'technical'] as const),
      generator: 'offline',
      model: null,
      attempts: status === 'failed' ? 3 : 1,
      errorCode: status === 'failed' ? 'GEMINI_TIMEOUT' : null,
      errorMessage: status === 'failed' ? 'The generator did not finish in time' : null,
      processingTimeMs: status === 'cancelled' ? null : processingTimeMs,
      outputLength: status === 'completed' ? spec.length : 0,
      metadata: {},
      createdAt,
      updatedAt: finished,
      startedAt: createdAt + 5,
      completedAt: finished,
    };
  };
}

/** A version-4-shaped UUID from the seeded generator, so seeded job ids are reproducible. */
function uuidFrom(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** The words the benchmark searches for: one in nearly every row, one in very few. */
export const BENCH_TERMS = { common: 'MVP', rare: 'quokka' } as const;

/**
 * Queries that mix a Latin-script word and a CJK run, as people search Chinese
 * specs: common with common, common with rare, terms never found together (every
 * match of each must be passed over), a word glued to Chinese, and three terms.
 */
export const BENCH_MIXED = [
  'API 用户',
  'MVP 家務',
  'iOS 应用',
  'quokka 用户',
  'privacy 隐私',
  'App 短尾矮袋鼠',
  '后端API 数据',
  'REST 用 MVP',
] as const;
