import type { JobStatus } from '../client/index.js';

export type Lang = 'en' | 'zh';

const en = {
  htmlLang: 'en',
  title: 'idea2spec',
  tagline: 'Turn a product idea into a written specification.',
  statusPage: 'Service status',
  language: 'Language',
  otherLanguage: '中文',
  shortcuts: 'Keyboard shortcuts',
  close: 'Close',
  skip: 'Skip to the idea form',
  // Composer
  ideaLabel: 'Your idea',
  ideaHint: 'Describe the product in any language: who it is for and what it should do.',
  ideaCount: (n: number) => `${n} / 5000 characters`,
  ideaTooShort: 'At least 10 characters.',
  ideaTooLong: 'At most 5000 characters.',
  template: 'Template',
  templates: {
    standard: 'Standard: the full specification',
    lean: 'Lean: the essentials',
    technical: 'Technical: architecture and interfaces',
  },
  model: 'Model (optional)',
  modelHint: 'Leave empty for the service default, e.g. gemini-2.5-flash.',
  submit: 'Write the specification',
  submitting: 'Sending…',
  // Job
  status: {
    queued: 'Queued',
    started: 'Started',
    processing: 'Writing',
    completed: 'Completed',
    failed: 'Failed',
    cancelled: 'Cancelled',
  } satisfies Record<JobStatus, string>,
  attempt: (n: number) => `attempt ${n}`,
  transport: {
    websocket: 'Live over WebSocket',
    sse: 'Live over Server-Sent Events',
    polling: 'Polling',
    reconnecting: 'Reconnecting (still following the job)',
  },
  cancel: 'Cancel',
  cancelling: 'Cancelling…',
  cancelledNote: 'The job was cancelled; nothing more will be written.',
  failedTitle: 'The specification could not be written',
  whatToDo: 'What to do',
  copy: 'Copy Markdown',
  copied: 'Copied',
  copyFailed: 'Copy failed: select the text and copy it by hand',
  download: 'Download',
  writeAgain: 'Write again',
  contents: 'Contents',
  offline: 'Offline draft',
  offlineNote:
    'Written by the built-in template drafter, not by a language model: it arranges your own words; review every section.',
  ideaHeading: 'Idea',
  specHeading: 'Specification',
  notFound: 'This idea does not exist (it may have been deleted).',
  backHome: 'Write a new idea',
  loading: 'Loading…',
  // History
  history: 'History',
  search: 'Search ideas and specifications',
  statusFilter: 'Status',
  allStatuses: 'All',
  loadMore: 'Load more',
  noIdeas: 'No ideas yet.',
  noMatches: 'Nothing matches.',
  open: 'Open',
  delete: 'Delete',
  confirmDelete: 'Delete this idea and its specification? A running job is cancelled first. This cannot be undone.',
  deleted: 'Deleted.',
  took: (duration: string) => `took ${duration}`,
  // API key
  keyTitle: 'API key',
  keyText: 'This service needs an API key. It is kept in this tab only and sent with every request.',
  keyWrong: 'That key was not accepted. Try again.',
  keyLabel: 'API key',
  keySave: 'Use this key',
  // Shortcuts
  keys: [
    ['Ctrl/⌘ + Enter', 'Write the specification'],
    ['n', 'Go to the idea form'],
    ['/', 'Search the history'],
    ['c', 'Copy the open specification as Markdown'],
    ['?', 'Show this list'],
    ['Esc', 'Close a dialog'],
  ] as Array<[string, string]>,
  error: 'Error',
};

export type Strings = typeof en;

/**
 * Simplified Chinese: the script of most Chinese readers (mainland China, Singapore), and the one the
 * offline drafter writes its Chinese drafts in, so a Chinese idea's page and its draft read alike.
 */
const zh: Strings = {
  htmlLang: 'zh-Hans',
  title: 'idea2spec',
  tagline: '把产品构想写成规格说明书。',
  statusPage: '服务状态',
  language: '语言',
  otherLanguage: 'English',
  shortcuts: '键盘快捷键',
  close: '关闭',
  skip: '跳到构想输入框',
  ideaLabel: '你的构想',
  ideaHint: '用任何语言描述产品：为谁而做，要做什么。',
  ideaCount: (n) => `${n} / 5000 字符`,
  ideaTooShort: '至少 10 个字符。',
  ideaTooLong: '最多 5000 个字符。',
  template: '模板',
  templates: { standard: '标准：完整的规格说明', lean: '精简：只写要点', technical: '技术：架构与接口' },
  model: '模型（可选）',
  modelHint: '留空则使用服务默认模型，例如 gemini-2.5-flash。',
  submit: '撰写规格说明',
  submitting: '正在提交…',
  status: {
    queued: '排队中',
    started: '已开始',
    processing: '撰写中',
    completed: '已完成',
    failed: '失败',
    cancelled: '已取消',
  },
  attempt: (n) => `第 ${n} 次尝试`,
  transport: {
    websocket: '实时（WebSocket）',
    sse: '实时（Server-Sent Events）',
    polling: '轮询',
    reconnecting: '正在重新连接（仍在跟踪任务）',
  },
  cancel: '取消',
  cancelling: '正在取消…',
  cancelledNote: '任务已取消，不会再写入内容。',
  failedTitle: '未能写出规格说明',
  whatToDo: '建议',
  copy: '复制 Markdown',
  copied: '已复制',
  copyFailed: '复制失败：请手动选择文本复制',
  download: '下载',
  writeAgain: '重新撰写',
  contents: '目录',
  offline: '离线草稿',
  offlineNote: '由内置模板生成器撰写，未使用语言模型：它只是整理了你的原话，请逐节审阅。',
  ideaHeading: '构想',
  specHeading: '规格说明',
  notFound: '找不到这个构想（可能已被删除）。',
  backHome: '撰写新的构想',
  loading: '加载中…',
  history: '历史记录',
  search: '搜索构想和规格说明',
  statusFilter: '状态',
  allStatuses: '全部',
  loadMore: '加载更多',
  noIdeas: '还没有构想。',
  noMatches: '没有匹配的结果。',
  open: '打开',
  delete: '删除',
  confirmDelete: '删除这个构想及其规格说明？正在运行的任务会先被取消。此操作无法撤销。',
  deleted: '已删除。',
  took: (duration) => `用时 ${duration}`,
  keyTitle: 'API 密钥',
  keyText: '此服务需要 API 密钥。密钥只保存在当前标签页中，并随每个请求发送。',
  keyWrong: '密钥无效，请重试。',
  keyLabel: 'API 密钥',
  keySave: '使用此密钥',
  keys: [
    ['Ctrl/⌘ + Enter', '撰写规格说明'],
    ['n', '转到构想输入框'],
    ['/', '搜索历史记录'],
    ['c', '复制当前规格说明（Markdown）'],
    ['?', '显示此列表'],
    ['Esc', '关闭对话框'],
  ],
  error: '错误',
};

export const STRINGS: Record<Lang, Strings> = { en, zh };

/** What to do about a failed job, by its error code. */
export function advice(lang: Lang, code: string): string {
  const zhText = lang === 'zh';
  switch (code) {
    case 'GEMINI_AUTH':
    case 'GEMINI_CONFIG':
    case 'GENERATOR_NOT_FOUND':
    case 'GENERATOR_NOT_EXECUTABLE':
    case 'GENERATOR_SPAWN_FAILED':
      return zhText
        ? '服务端的生成器未配置好（例如 Gemini CLI 未登录）。请联系运维人员，然后重新撰写。'
        : 'The generator is not set up on the server (e.g. the Gemini CLI is not signed in). Ask the operator, then write again.';
    case 'GENERATOR_TIMEOUT':
    case 'GENERATOR_STALLED':
    case 'GEMINI_API_TIMEOUT':
    case 'GEMINI_TURN_LIMIT':
      return zhText
        ? '生成耗时过长。请重新撰写，或改用精简模板、缩短构想。'
        : 'Generating took too long. Write again, perhaps with the lean template or a shorter idea.';
    case 'GEMINI_RATE_LIMITED':
    case 'GENERATOR_CIRCUIT_OPEN':
    case 'GENERATOR_UNAVAILABLE':
    case 'GEMINI_API_ERROR':
      return zhText
        ? '生成器暂时繁忙或不可用。请稍等一两分钟再重新撰写。'
        : 'The generator is busy or unavailable for now. Wait a minute or two, then write again.';
    case 'GEMINI_MODEL_NOT_FOUND':
      return zhText
        ? '没有这个模型。请清空模型名称或换一个，然后重新撰写。'
        : 'That model does not exist. Clear the model field or pick another, then write again.';
    case 'GEMINI_BAD_INPUT':
    case 'GEMINI_API_REJECTED':
      return zhText
        ? '生成器拒绝了这个构想。请换一种说法，然后重新撰写。'
        : 'The generator refused this idea. Rephrase it, then write again.';
    case 'INTERRUPTED':
      return zhText ? '任务进行时服务重启了。请重新撰写。' : 'The service restarted during the job. Write again.';
    default:
      return zhText
        ? '请重新撰写；如果一直失败，请查看服务状态页面。'
        : 'Write again; if it keeps failing, check the service status page.';
  }
}

const STORED_LANG = 'idea2spec.lang';

/** The stored choice, else the browser's first language that is Chinese or English. */
export function initialLang(): Lang {
  const stored = localStorage.getItem(STORED_LANG);
  if (stored === 'en' || stored === 'zh') return stored;
  for (const tag of navigator.languages ?? [navigator.language]) {
    if (/^zh\b/i.test(tag)) return 'zh';
    if (/^en\b/i.test(tag)) return 'en';
  }
  return 'en';
}

export function storeLang(lang: Lang): void {
  localStorage.setItem(STORED_LANG, lang);
}

export function formatDuration(lang: Lang, ms: number): string {
  if (ms < 1000) return lang === 'zh' ? `${Math.round(ms)} 毫秒` : `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  const format = new Intl.NumberFormat(lang === 'zh' ? 'zh-Hans' : 'en', {
    maximumFractionDigits: seconds < 10 ? 1 : 0,
  });
  if (seconds < 60) return lang === 'zh' ? `${format.format(seconds)} 秒` : `${format.format(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  return lang === 'zh' ? `${minutes} 分 ${rest} 秒` : `${minutes} min ${rest} s`;
}

/** "3 minutes ago", in the interface's language. */
export function formatAge(lang: Lang, iso: string, now = Date.now()): string {
  const rtf = new Intl.RelativeTimeFormat(lang === 'zh' ? 'zh-Hans' : 'en', { numeric: 'auto' });
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const steps: Array<[Intl.RelativeTimeFormatUnit, number]> = [
    ['second', 60],
    ['minute', 60],
    ['hour', 24],
    ['day', 30],
    ['month', 12],
    ['year', Infinity],
  ];
  let value = seconds;
  for (const [unit, size] of steps) {
    if (Math.abs(value) < size) return rtf.format(value, unit);
    value = Math.round(value / size);
  }
  return rtf.format(value, 'year');
}
