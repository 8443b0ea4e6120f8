/**
 * The `offline` generator's drafter: a deterministic template filler for machines
 * with no model access. It only rearranges the idea's own words into the
 * template's sections and marks every open decision, and says so at the top.
 */
import { SECTION_TITLES, TEMPLATE_SECTIONS, type SectionId, type TemplateName } from './templates.js';

export const OFFLINE_LABEL = 'Offline draft — written without a language model.';

type Lang = 'en' | 'zh' | 'ja' | 'ko' | 'ru' | 'es' | 'fr' | 'de';

type Question = 'users' | 'scope' | 'outcome' | 'edge' | 'auth' | 'retention' | 'entities' | 'integrations' | 'metric' | 'scale';

interface Labels {
  sections: Readonly<Record<SectionId, string>>;
  /** Follows OFFLINE_LABEL, which stays English so operators and tests can always find it. */
  note: string;
  untitled: string;
  ideaLead: string;
  summary: string;
  colon: string;
  comma: string;
  period: string;
  goal: string;
  nonGoal: string;
  primaryUsers: string;
  scenario: string;
  edgeCases: string;
  given: string;
  when: string;
  then: string;
  givenText: string;
  whenText: (phrase: string) => string;
  thenText: string;
  must: (phrase: string) => string;
  mustAuth: (marker: string) => string;
  mustRetain: (marker: string) => string;
  entityText: string;
  fields: string;
  nfr: readonly string[];
  architecture: readonly string[];
  api: readonly string[];
  milestones: readonly string[];
  success: readonly string[];
  risks: readonly string[];
  ask: Readonly<Record<Question, string>>;
}

const API_PATHS = ['`GET /api/v1/{resource}`', '`POST /api/v1/{resource}`', '`GET`, `PATCH`, `DELETE /api/v1/{resource}/{id}`'] as const;

const LABELS: Readonly<Record<Lang, Labels>> = {
  en: {
    sections: SECTION_TITLES,
    note: "idea2spec's offline template drafter arranged the idea's own words into the sections below. Review every section and answer each NEEDS CLARIFICATION item before relying on it.",
    untitled: 'Untitled product',
    ideaLead: 'The idea, as submitted:',
    summary: 'This draft restates the idea as a specification. Requirements and scenarios reuse its wording; decisions the idea leaves open are marked for clarification.',
    colon: ': ',
    comma: ', ',
    period: '.',
    goal: 'Goal',
    nonGoal: 'Non-goal',
    primaryUsers: 'Primary users',
    scenario: 'Scenario',
    edgeCases: 'Edge cases',
    given: 'Given',
    when: 'When',
    then: 'Then',
    givenText: 'a user who needs this',
    whenText: (p) => `they carry out “${p}”`,
    thenText: 'the system completes the action and shows the result',
    must: (p) => `The system MUST support “${p}”.`,
    mustAuth: (m) => `The system MUST authenticate users via ${m}.`,
    mustRetain: (m) => `The system MUST retain user data for ${m}.`,
    entityText: 'named in the idea; its attributes and relationships are still to be defined.',
    fields: 'further fields to be defined',
    nfr: [
      'Performance: 95% of user actions complete within 1 second under the expected load.',
      'Availability: at least 99.5% monthly uptime.',
      'Security and privacy: personal data is encrypted in transit and at rest and visible only to authorised users.',
      'Accessibility: the user interface meets WCAG 2.1 AA.',
      "Localisation: the interface and content support the idea's language.",
    ],
    architecture: [
      'Client: a web or mobile interface for the scenarios above.',
      'Application service: validates requests and applies the functional requirements.',
      'Storage: a database holding the key entities.',
    ],
    api: [
      `${API_PATHS[0]} — list and search a resource (one resource per key entity).`,
      `${API_PATHS[1]} — create.`,
      `${API_PATHS[2]} — read, update, delete.`,
      'Errors share one JSON shape with a stable code; every endpoint requires authentication.',
    ],
    milestones: [
      'M1 — Prototype: FR-001 works end to end for a single user.',
      'M2 — MVP: every MUST requirement and NFR-001…NFR-003 are met; first real users.',
      'M3 — Launch: the success criteria are measured and every open question is resolved.',
    ],
    success: ['A first-time user completes scenario 1 in under 3 minutes without help.', '90% of users complete scenario 1 on their first attempt.'],
    risks: [
      'Assumption: users have a device with an internet connection.',
      'Risk: the idea describes more than a first release can hold; the MVP scope must be cut deliberately.',
    ],
    ask: {
      users: 'Who are the primary users, and what do they need most?',
      scope: 'What is explicitly out of scope for the first release?',
      outcome: 'What observable result counts as success here?',
      edge: 'What should happen on invalid input, lost connectivity or simultaneous edits?',
      auth: 'Which sign-in method: email and password, single sign-on or a social login?',
      retention: 'How long is user data kept, and can users delete it?',
      entities: 'Which things (objects, records) does the product manage?',
      integrations: 'Which external services does it depend on (payments, email, maps, …)?',
      metric: 'Which business metric defines success, e.g. weekly active users after three months?',
      scale: 'How many users and how much data are expected in the first year?',
    },
  },
  zh: {
    sections: {
      overview: '概述',
      goals: '目标与非目标',
      users: '用户与场景',
      functional: '功能需求',
      nonFunctional: '非功能需求',
      entities: '关键实体',
      dataModel: '数据模型',
      architecture: '架构草图',
      api: 'API 设计',
      milestones: '里程碑',
      success: '成功标准',
      risks: '风险与假设',
      openQuestions: '待解决问题',
    },
    note: '本文由 idea2spec 的离线模板生成器撰写，未使用语言模型：它只是把构想中的原话整理进下列章节。使用前请逐节审阅，并回答每一个 NEEDS CLARIFICATION 问题。',
    untitled: '未命名产品',
    ideaLead: '提交的原始构想：',
    summary: '本草稿将构想改写为规格说明：需求和场景沿用构想的原话，构想中尚未确定的决策均已标注待澄清。',
    colon: '：',
    comma: '，',
    period: '。',
    goal: '目标',
    nonGoal: '非目标',
    primaryUsers: '主要用户',
    scenario: '场景',
    edgeCases: '边界情况',
    given: '假如',
    when: '当',
    then: '那么',
    givenText: '一位需要此功能的用户',
    whenText: (p) => `该用户执行“${p}”`,
    thenText: '系统完成该操作并显示结果',
    must: (p) => `系统必须支持“${p}”。`,
    mustAuth: (m) => `系统必须通过 ${m} 验证用户身份。`,
    mustRetain: (m) => `系统必须将用户数据保留 ${m}。`,
    entityText: '构想中提到的对象；其属性和关系有待定义。',
    fields: '其他字段待定',
    nfr: [
      '性能：在预期负载下，95% 的用户操作在 1 秒内完成。',
      '可用性：每月正常运行时间不低于 99.5%。',
      '安全与隐私：个人数据在传输和存储时均加密，且仅授权用户可见。',
      '无障碍：用户界面符合 WCAG 2.1 AA 标准。',
      '本地化：界面和内容支持构想所用的语言。',
    ],
    architecture: ['客户端：实现上述场景的网页或移动端界面。', '应用服务：校验请求并执行功能需求。', '存储：保存关键实体的数据库。'],
    api: [
      `${API_PATHS[0]} —— 列出和搜索资源（每个关键实体对应一个资源）。`,
      `${API_PATHS[1]} —— 创建。`,
      `${API_PATHS[2]} —— 读取、更新、删除。`,
      '错误使用统一的 JSON 格式和稳定的错误码；所有接口都需要身份验证。',
    ],
    milestones: [
      'M1 —— 原型：FR-001 可供单个用户端到端使用。',
      'M2 —— MVP：满足所有“必须”需求及 NFR-001…NFR-003；迎来首批真实用户。',
      'M3 —— 发布：成功标准已可度量，所有待解决问题均已解决。',
    ],
    success: ['首次使用的用户无需帮助即可在 3 分钟内完成场景 1。', '90% 的用户首次尝试即成功完成场景 1。'],
    risks: ['假设：用户拥有可以联网的设备。', '风险：构想涵盖的内容超出首个版本的容量，需要有意识地缩减 MVP 范围。'],
    ask: {
      users: '主要用户是谁？他们最需要什么？',
      scope: '首个版本明确不包含哪些内容？',
      outcome: '什么可观察的结果算作成功？',
      edge: '输入无效、网络中断或多人同时编辑时应如何处理？',
      auth: '采用哪种登录方式：邮箱和密码、单点登录还是社交账号登录？',
      retention: '用户数据保留多久？用户能否删除自己的数据？',
      entities: '产品需要管理哪些对象或记录？',
      integrations: '依赖哪些外部服务（支付、邮件、地图等）？',
      metric: '哪个业务指标定义成功，例如三个月后的周活跃用户数？',
      scale: '第一年预计有多少用户、多少数据量？',
    },
  },
  ja: {
    sections: {
      overview: '概要',
      goals: '目標と対象外',
      users: 'ユーザーとシナリオ',
      functional: '機能要件',
      nonFunctional: '非機能要件',
      entities: '主要エンティティ',
      dataModel: 'データモデル',
      architecture: 'アーキテクチャ概略',
      api: 'API',
      milestones: 'マイルストーン',
      success: '成功基準',
      risks: 'リスクと前提',
      openQuestions: '未解決の質問',
    },
    note: 'この文書は idea2spec のオフライン・テンプレート生成機能が言語モデルを使わずに作成したもので、アイデアの文言を以下のセクションに並べただけです。利用前に各セクションを確認し、すべての NEEDS CLARIFICATION に回答してください。',
    untitled: '名称未定のプロダクト',
    ideaLead: '提出されたアイデア（原文）：',
    summary: 'この草案はアイデアを仕様書の形に書き直したものです。要件とシナリオはアイデアの文言をそのまま使い、アイデアで決まっていない点には確認が必要であることを記しています。',
    colon: '：',
    comma: '、',
    period: '。',
    goal: '目標',
    nonGoal: '対象外',
    primaryUsers: '主なユーザー',
    scenario: 'シナリオ',
    edgeCases: 'エッジケース',
    given: '前提',
    when: 'もし',
    then: 'ならば',
    givenText: 'この機能を必要とするユーザーがいる',
    whenText: (p) => `そのユーザーが「${p}」を行う`,
    thenText: 'システムは操作を完了し、結果を表示する',
    must: (p) => `システムは「${p}」をサポートしなければならない。`,
    mustAuth: (m) => `システムは ${m} によってユーザーを認証しなければならない。`,
    mustRetain: (m) => `システムはユーザーデータを ${m} 保持しなければならない。`,
    entityText: 'アイデアに登場する対象。属性と関係は今後定義する。',
    fields: 'その他のフィールドは未定',
    nfr: [
      '性能：想定負荷のもとで、ユーザー操作の 95% が 1 秒以内に完了する。',
      '可用性：月間稼働率 99.5% 以上。',
      'セキュリティとプライバシー：個人データは通信時・保存時ともに暗号化され、権限のあるユーザーにのみ表示される。',
      'アクセシビリティ：UI は WCAG 2.1 AA に準拠する。',
      'ローカライズ：UI とコンテンツはアイデアの言語に対応する。',
    ],
    architecture: [
      'クライアント：上記のシナリオを実現する Web またはモバイルの UI。',
      'アプリケーションサービス：リクエストを検証し、機能要件を実行する。',
      'ストレージ：主要エンティティを保存するデータベース。',
    ],
    api: [
      `${API_PATHS[0]} — リソースの一覧と検索（主要エンティティごとに 1 リソース）。`,
      `${API_PATHS[1]} — 作成。`,
      `${API_PATHS[2]} — 取得・更新・削除。`,
      'エラーは安定したコードを持つ共通の JSON 形式で返し、すべてのエンドポイントで認証を必須とする。',
    ],
    milestones: [
      'M1 — プロトタイプ：FR-001 が 1 人のユーザーでエンドツーエンドに動作する。',
      'M2 — MVP：すべての必須要件と NFR-001〜NFR-003 を満たし、最初の実ユーザーが利用する。',
      'M3 — リリース：成功基準を計測でき、未解決の質問がすべて解決している。',
    ],
    success: ['初めてのユーザーが助けなしでシナリオ 1 を 3 分以内に完了できる。', 'ユーザーの 90% が初回の試行でシナリオ 1 を完了できる。'],
    risks: ['前提：ユーザーはインターネットに接続できる端末を持っている。', 'リスク：アイデアの範囲が最初のリリースに収まらないため、MVP の範囲を意図的に絞る必要がある。'],
    ask: {
      users: '主なユーザーは誰で、何を最も必要としているか？',
      scope: '最初のリリースで明確に対象外とするものは何か？',
      outcome: 'どのような観察可能な結果を成功とみなすか？',
      edge: '不正な入力、接続の切断、同時編集の際にどう振る舞うべきか？',
      auth: 'ログイン方式は何か（メールとパスワード、シングルサインオン、ソーシャルログイン）？',
      retention: 'ユーザーデータをどのくらいの期間保持し、ユーザーは削除できるか？',
      entities: 'プロダクトが管理する対象（オブジェクトやレコード）は何か？',
      integrations: 'どの外部サービス（決済、メール、地図など）に依存するか？',
      metric: '成功を定義するビジネス指標は何か（例：3 か月後の週間アクティブユーザー数）？',
      scale: '初年度に想定するユーザー数とデータ量は？',
    },
  },
  ko: {
    sections: {
      overview: '개요',
      goals: '목표와 비목표',
      users: '사용자와 시나리오',
      functional: '기능 요구사항',
      nonFunctional: '비기능 요구사항',
      entities: '핵심 엔터티',
      dataModel: '데이터 모델',
      architecture: '아키텍처 개요',
      api: 'API',
      milestones: '마일스톤',
      success: '성공 기준',
      risks: '위험과 가정',
      openQuestions: '미해결 질문',
    },
    note: '이 문서는 idea2spec의 오프라인 템플릿 작성기가 언어 모델 없이 작성했으며, 아이디어의 문구를 아래 절에 배치했을 뿐입니다. 사용하기 전에 모든 절을 검토하고 각 NEEDS CLARIFICATION 항목에 답하십시오.',
    untitled: '이름 없는 제품',
    ideaLead: '제출된 아이디어 원문:',
    summary: '이 초안은 아이디어를 명세서 형식으로 다시 정리한 것입니다. 요구사항과 시나리오는 아이디어의 표현을 그대로 사용하며, 아이디어에서 정해지지 않은 결정은 확인이 필요하다고 표시했습니다.',
    colon: ': ',
    comma: ', ',
    period: '.',
    goal: '목표',
    nonGoal: '비목표',
    primaryUsers: '주요 사용자',
    scenario: '시나리오',
    edgeCases: '예외 상황',
    given: '조건',
    when: '만일',
    then: '그러면',
    givenText: '이 기능이 필요한 사용자가 있고',
    whenText: (p) => `사용자가 “${p}”을(를) 수행하면`,
    thenText: '시스템은 작업을 완료하고 결과를 보여준다',
    must: (p) => `시스템은 “${p}”을(를) 지원해야 한다.`,
    mustAuth: (m) => `시스템은 ${m} 방식으로 사용자를 인증해야 한다.`,
    mustRetain: (m) => `시스템은 사용자 데이터를 ${m} 동안 보관해야 한다.`,
    entityText: '아이디어에 등장하는 대상이며, 속성과 관계는 정의가 필요하다.',
    fields: '기타 필드는 미정',
    nfr: [
      '성능: 예상 부하에서 사용자 작업의 95%가 1초 이내에 완료된다.',
      '가용성: 월간 가동률 99.5% 이상.',
      '보안 및 개인정보: 개인 데이터는 전송 및 저장 시 암호화되며 권한 있는 사용자에게만 보인다.',
      '접근성: 사용자 인터페이스는 WCAG 2.1 AA를 충족한다.',
      '현지화: 인터페이스와 콘텐츠는 아이디어의 언어를 지원한다.',
    ],
    architecture: [
      '클라이언트: 위 시나리오를 위한 웹 또는 모바일 인터페이스.',
      '애플리케이션 서비스: 요청을 검증하고 기능 요구사항을 수행한다.',
      '저장소: 핵심 엔터티를 보관하는 데이터베이스.',
    ],
    api: [
      `${API_PATHS[0]} — 리소스 목록 조회 및 검색(핵심 엔터티마다 하나의 리소스).`,
      `${API_PATHS[1]} — 생성.`,
      `${API_PATHS[2]} — 조회, 수정, 삭제.`,
      '오류는 안정적인 코드를 가진 하나의 JSON 형식으로 반환하며, 모든 엔드포인트는 인증을 요구한다.',
    ],
    milestones: [
      'M1 — 프로토타입: FR-001이 한 명의 사용자에게 처음부터 끝까지 동작한다.',
      'M2 — MVP: 모든 필수 요구사항과 NFR-001…NFR-003을 충족하고 첫 실제 사용자를 맞는다.',
      'M3 — 출시: 성공 기준을 측정할 수 있고 모든 미해결 질문이 해결되었다.',
    ],
    success: ['처음 사용하는 사용자가 도움 없이 3분 이내에 시나리오 1을 완료한다.', '사용자의 90%가 첫 시도에서 시나리오 1을 완료한다.'],
    risks: ['가정: 사용자는 인터넷에 연결된 기기를 가지고 있다.', '위험: 아이디어의 범위가 첫 출시에 담기에는 크므로 MVP 범위를 의도적으로 줄여야 한다.'],
    ask: {
      users: '주요 사용자는 누구이며 무엇이 가장 필요한가?',
      scope: '첫 출시에서 명시적으로 제외되는 것은 무엇인가?',
      outcome: '어떤 관찰 가능한 결과를 성공으로 볼 것인가?',
      edge: '잘못된 입력, 연결 끊김, 동시 편집 시 어떻게 동작해야 하는가?',
      auth: '어떤 로그인 방식을 쓰는가: 이메일과 비밀번호, SSO, 소셜 로그인?',
      retention: '사용자 데이터를 얼마나 보관하며, 사용자가 삭제할 수 있는가?',
      entities: '제품이 관리하는 대상(객체, 기록)은 무엇인가?',
      integrations: '어떤 외부 서비스(결제, 이메일, 지도 등)에 의존하는가?',
      metric: '성공을 정의하는 비즈니스 지표는 무엇인가(예: 3개월 후 주간 활성 사용자 수)?',
      scale: '첫해에 예상되는 사용자 수와 데이터 양은?',
    },
  },
  ru: {
    sections: {
      overview: 'Обзор',
      goals: 'Цели и не-цели',
      users: 'Пользователи и сценарии',
      functional: 'Функциональные требования',
      nonFunctional: 'Нефункциональные требования',
      entities: 'Ключевые сущности',
      dataModel: 'Модель данных',
      architecture: 'Эскиз архитектуры',
      api: 'API',
      milestones: 'Этапы',
      success: 'Критерии успеха',
      risks: 'Риски и допущения',
      openQuestions: 'Открытые вопросы',
    },
    note: 'Черновик составлен офлайн-шаблонизатором idea2spec без языковой модели: он лишь раскладывает формулировки идеи по разделам ниже. Перед использованием проверьте каждый раздел и ответьте на каждый пункт NEEDS CLARIFICATION.',
    untitled: 'Продукт без названия',
    ideaLead: 'Идея в исходном виде:',
    summary: 'Этот черновик переписывает идею в виде спецификации: требования и сценарии используют её формулировки, а решения, которые идея оставляет открытыми, помечены для уточнения.',
    colon: ': ',
    comma: ', ',
    period: '.',
    goal: 'Цель',
    nonGoal: 'Не входит в рамки',
    primaryUsers: 'Основные пользователи',
    scenario: 'Сценарий',
    edgeCases: 'Граничные случаи',
    given: 'Дано',
    when: 'Когда',
    then: 'Тогда',
    givenText: 'пользователь, которому нужна эта возможность',
    whenText: (p) => `он выполняет «${p}»`,
    thenText: 'система завершает действие и показывает результат',
    must: (p) => `Система ДОЛЖНА поддерживать «${p}».`,
    mustAuth: (m) => `Система ДОЛЖНА аутентифицировать пользователей через ${m}.`,
    mustRetain: (m) => `Система ДОЛЖНА хранить данные пользователей в течение ${m}.`,
    entityText: 'упоминается в идее; атрибуты и связи предстоит определить.',
    fields: 'остальные поля предстоит определить',
    nfr: [
      'Производительность: 95% действий пользователя выполняются менее чем за 1 секунду при ожидаемой нагрузке.',
      'Надёжность: не менее 99,5% времени безотказной работы в месяц.',
      'Безопасность и конфиденциальность: персональные данные шифруются при передаче и хранении и видны только авторизованным пользователям.',
      'Цифровая доступность: интерфейс соответствует WCAG 2.1 AA.',
      'Локализация: интерфейс и контент поддерживают язык идеи.',
    ],
    architecture: [
      'Клиент: веб- или мобильный интерфейс для сценариев выше.',
      'Сервис приложения: проверяет запросы и выполняет функциональные требования.',
      'Хранилище: база данных с ключевыми сущностями.',
    ],
    api: [
      `${API_PATHS[0]} — список и поиск ресурса (по одному ресурсу на ключевую сущность).`,
      `${API_PATHS[1]} — создание.`,
      `${API_PATHS[2]} — чтение, изменение, удаление.`,
      'Ошибки возвращаются в едином JSON-формате со стабильным кодом; все эндпоинты требуют аутентификации.',
    ],
    milestones: [
      'M1 — Прототип: FR-001 работает от начала до конца для одного пользователя.',
      'M2 — MVP: выполнены все обязательные требования и NFR-001…NFR-003; первые реальные пользователи.',
      'M3 — Запуск: критерии успеха измеряются, все открытые вопросы решены.',
    ],
    success: ['Новый пользователь без посторонней помощи проходит сценарий 1 менее чем за 3 минуты.', '90% пользователей проходят сценарий 1 с первой попытки.'],
    risks: [
      'Допущение: у пользователей есть устройство с доступом в интернет.',
      'Риск: идея описывает больше, чем вмещает первый релиз; объём MVP нужно сознательно сократить.',
    ],
    ask: {
      users: 'Кто основные пользователи и что им нужнее всего?',
      scope: 'Что явно не входит в первый релиз?',
      outcome: 'Какой наблюдаемый результат считается успехом?',
      edge: 'Что должно происходить при неверном вводе, потере связи или одновременном редактировании?',
      auth: 'Какой способ входа: e-mail и пароль, единый вход (SSO) или вход через соцсети?',
      retention: 'Как долго хранятся данные пользователей и могут ли пользователи их удалить?',
      entities: 'Какими объектами или записями управляет продукт?',
      integrations: 'От каких внешних сервисов он зависит (платежи, почта, карты и т. п.)?',
      metric: 'Какая бизнес-метрика определяет успех, например еженедельно активные пользователи через три месяца?',
      scale: 'Сколько пользователей и данных ожидается в первый год?',
    },
  },
  es: {
    sections: {
      overview: 'Resumen',
      goals: 'Objetivos y no objetivos',
      users: 'Usuarios y escenarios',
      functional: 'Requisitos funcionales',
      nonFunctional: 'Requisitos no funcionales',
      entities: 'Entidades clave',
      dataModel: 'Modelo de datos',
      architecture: 'Esbozo de arquitectura',
      api: 'API',
      milestones: 'Hitos',
      success: 'Criterios de éxito',
      risks: 'Riesgos y supuestos',
      openQuestions: 'Preguntas abiertas',
    },
    note: 'El generador de plantillas sin conexión de idea2spec escribió este borrador sin un modelo de lenguaje: solo reparte las palabras de la idea en las secciones siguientes. Revise cada sección y responda cada punto NEEDS CLARIFICATION antes de usarlo.',
    untitled: 'Producto sin nombre',
    ideaLead: 'La idea, tal como se envió:',
    summary: 'Este borrador reformula la idea como especificación: los requisitos y escenarios reutilizan sus palabras y las decisiones que la idea deja abiertas quedan marcadas para aclarar.',
    colon: ': ',
    comma: ', ',
    period: '.',
    goal: 'Objetivo',
    nonGoal: 'Fuera de alcance',
    primaryUsers: 'Usuarios principales',
    scenario: 'Escenario',
    edgeCases: 'Casos límite',
    given: 'Dado',
    when: 'Cuando',
    then: 'Entonces',
    givenText: 'un usuario que necesita esta función',
    whenText: (p) => `realiza «${p}»`,
    thenText: 'el sistema completa la acción y muestra el resultado',
    must: (p) => `El sistema DEBE admitir «${p}».`,
    mustAuth: (m) => `El sistema DEBE autenticar a los usuarios mediante ${m}.`,
    mustRetain: (m) => `El sistema DEBE conservar los datos de los usuarios durante ${m}.`,
    entityText: 'mencionada en la idea; sus atributos y relaciones están por definir.',
    fields: 'demás campos por definir',
    nfr: [
      'Rendimiento: el 95 % de las acciones de usuario se completan en menos de 1 segundo con la carga prevista.',
      'Disponibilidad: al menos un 99,5 % de tiempo de actividad mensual.',
      'Seguridad y privacidad: los datos personales se cifran en tránsito y en reposo y solo los ven usuarios autorizados.',
      'Accesibilidad: la interfaz cumple WCAG 2.1 AA.',
      'Localización: la interfaz y el contenido admiten el idioma de la idea.',
    ],
    architecture: [
      'Cliente: una interfaz web o móvil para los escenarios anteriores.',
      'Servicio de aplicación: valida las solicitudes y aplica los requisitos funcionales.',
      'Almacenamiento: una base de datos con las entidades clave.',
    ],
    api: [
      `${API_PATHS[0]} — listar y buscar un recurso (un recurso por entidad clave).`,
      `${API_PATHS[1]} — crear.`,
      `${API_PATHS[2]} — leer, actualizar, eliminar.`,
      'Los errores usan una única forma JSON con un código estable; todos los endpoints requieren autenticación.',
    ],
    milestones: [
      'M1 — Prototipo: FR-001 funciona de principio a fin para un usuario.',
      'M2 — MVP: se cumplen todos los requisitos obligatorios y NFR-001…NFR-003; primeros usuarios reales.',
      'M3 — Lanzamiento: los criterios de éxito se miden y todas las preguntas abiertas están resueltas.',
    ],
    success: ['Un usuario nuevo completa el escenario 1 en menos de 3 minutos sin ayuda.', 'El 90 % de los usuarios completa el escenario 1 en su primer intento.'],
    risks: [
      'Supuesto: los usuarios tienen un dispositivo con conexión a internet.',
      'Riesgo: la idea describe más de lo que cabe en una primera versión; hay que recortar el alcance del MVP a propósito.',
    ],
    ask: {
      users: '¿Quiénes son los usuarios principales y qué necesitan más?',
      scope: '¿Qué queda explícitamente fuera de la primera versión?',
      outcome: '¿Qué resultado observable cuenta como éxito?',
      edge: '¿Qué debe ocurrir ante datos no válidos, pérdida de conexión o ediciones simultáneas?',
      auth: '¿Qué método de acceso: correo y contraseña, inicio de sesión único o redes sociales?',
      retention: '¿Cuánto tiempo se conservan los datos de los usuarios y pueden borrarlos?',
      entities: '¿Qué objetos o registros gestiona el producto?',
      integrations: '¿De qué servicios externos depende (pagos, correo, mapas…)?',
      metric: '¿Qué métrica de negocio define el éxito, p. ej. usuarios activos semanales a los tres meses?',
      scale: '¿Cuántos usuarios y cuántos datos se esperan el primer año?',
    },
  },
  fr: {
    sections: {
      overview: "Vue d'ensemble",
      goals: 'Objectifs et hors-périmètre',
      users: 'Utilisateurs et scénarios',
      functional: 'Exigences fonctionnelles',
      nonFunctional: 'Exigences non fonctionnelles',
      entities: 'Entités clés',
      dataModel: 'Modèle de données',
      architecture: "Esquisse d'architecture",
      api: 'API',
      milestones: 'Jalons',
      success: 'Critères de réussite',
      risks: 'Risques et hypothèses',
      openQuestions: 'Questions ouvertes',
    },
    note: "Le générateur de modèles hors ligne d'idea2spec a rédigé ce brouillon sans modèle de langage : il se contente de répartir les mots de l'idée dans les sections ci-dessous. Relisez chaque section et répondez à chaque point NEEDS CLARIFICATION avant de vous en servir.",
    untitled: 'Produit sans nom',
    ideaLead: "L'idée, telle que soumise :",
    summary: "Ce brouillon reformule l'idée en spécification : les exigences et les scénarios reprennent ses mots, et les décisions qu'elle laisse ouvertes sont signalées pour clarification.",
    colon: ' : ',
    comma: ', ',
    period: '.',
    goal: 'Objectif',
    nonGoal: 'Hors périmètre',
    primaryUsers: 'Utilisateurs principaux',
    scenario: 'Scénario',
    edgeCases: 'Cas limites',
    given: 'Soit',
    when: 'Quand',
    then: 'Alors',
    givenText: 'un utilisateur qui a besoin de cette fonction',
    whenText: (p) => `il réalise « ${p} »`,
    thenText: "le système termine l'action et affiche le résultat",
    must: (p) => `Le système DOIT prendre en charge « ${p} ».`,
    mustAuth: (m) => `Le système DOIT authentifier les utilisateurs via ${m}.`,
    mustRetain: (m) => `Le système DOIT conserver les données des utilisateurs pendant ${m}.`,
    entityText: "citée dans l'idée ; ses attributs et relations restent à définir.",
    fields: 'autres champs à définir',
    nfr: [
      "Performance : 95 % des actions utilisateur aboutissent en moins d'une seconde sous la charge prévue.",
      'Disponibilité : au moins 99,5 % de disponibilité mensuelle.',
      'Sécurité et confidentialité : les données personnelles sont chiffrées en transit et au repos et visibles des seuls utilisateurs autorisés.',
      "Accessibilité : l'interface respecte le niveau AA des WCAG 2.1.",
      "Localisation : l'interface et les contenus prennent en charge la langue de l'idée.",
    ],
    architecture: [
      'Client : une interface web ou mobile pour les scénarios ci-dessus.',
      'Service applicatif : valide les requêtes et applique les exigences fonctionnelles.',
      'Stockage : une base de données contenant les entités clés.',
    ],
    api: [
      `${API_PATHS[0]} — lister et rechercher une ressource (une ressource par entité clé).`,
      `${API_PATHS[1]} — créer.`,
      `${API_PATHS[2]} — lire, modifier, supprimer.`,
      "Les erreurs suivent un format JSON unique avec un code stable ; tous les points d'accès exigent une authentification.",
    ],
    milestones: [
      'M1 — Prototype : FR-001 fonctionne de bout en bout pour un utilisateur.',
      'M2 — MVP : toutes les exigences obligatoires et NFR-001…NFR-003 sont satisfaites ; premiers utilisateurs réels.',
      'M3 — Lancement : les critères de réussite sont mesurés et toutes les questions ouvertes sont résolues.',
    ],
    success: ['Un nouvel utilisateur termine le scénario 1 en moins de 3 minutes sans aide.', '90 % des utilisateurs réussissent le scénario 1 dès leur première tentative.'],
    risks: [
      "Hypothèse : les utilisateurs disposent d'un appareil connecté à internet.",
      "Risque : l'idée décrit plus qu'une première version ne peut contenir ; il faut réduire délibérément le périmètre du MVP.",
    ],
    ask: {
      users: 'Qui sont les utilisateurs principaux et de quoi ont-ils le plus besoin ?',
      scope: "Qu'est-ce qui est explicitement exclu de la première version ?",
      outcome: 'Quel résultat observable compte comme une réussite ?',
      edge: 'Que doit-il se passer en cas de saisie invalide, de perte de connexion ou de modifications simultanées ?',
      auth: 'Quelle méthode de connexion : e-mail et mot de passe, authentification unique ou réseau social ?',
      retention: 'Combien de temps les données des utilisateurs sont-elles conservées, et peuvent-ils les supprimer ?',
      entities: 'Quels objets ou enregistrements le produit gère-t-il ?',
      integrations: 'De quels services externes dépend-il (paiement, e-mail, cartes…) ?',
      metric: 'Quel indicateur métier définit la réussite, par exemple les utilisateurs actifs hebdomadaires après trois mois ?',
      scale: "Combien d'utilisateurs et quel volume de données sont attendus la première année ?",
    },
  },
  de: {
    sections: {
      overview: 'Überblick',
      goals: 'Ziele und Nicht-Ziele',
      users: 'Nutzer und Szenarien',
      functional: 'Funktionale Anforderungen',
      nonFunctional: 'Nicht-funktionale Anforderungen',
      entities: 'Zentrale Entitäten',
      dataModel: 'Datenmodell',
      architecture: 'Architekturskizze',
      api: 'API',
      milestones: 'Meilensteine',
      success: 'Erfolgskriterien',
      risks: 'Risiken und Annahmen',
      openQuestions: 'Offene Fragen',
    },
    note: 'Der Offline-Vorlagengenerator von idea2spec hat diesen Entwurf ohne Sprachmodell erstellt: Er ordnet nur die Worte der Idee den Abschnitten unten zu. Prüfen Sie jeden Abschnitt und beantworten Sie jeden Punkt NEEDS CLARIFICATION, bevor Sie sich darauf verlassen.',
    untitled: 'Unbenanntes Produkt',
    ideaLead: 'Die Idee im Wortlaut:',
    summary: 'Dieser Entwurf formuliert die Idee als Spezifikation: Anforderungen und Szenarien übernehmen ihren Wortlaut, und Entscheidungen, die die Idee offenlässt, sind zur Klärung markiert.',
    colon: ': ',
    comma: ', ',
    period: '.',
    goal: 'Ziel',
    nonGoal: 'Nicht-Ziel',
    primaryUsers: 'Hauptnutzer',
    scenario: 'Szenario',
    edgeCases: 'Grenzfälle',
    given: 'Angenommen',
    when: 'Wenn',
    then: 'Dann',
    givenText: 'ein Nutzer braucht diese Funktion',
    whenText: (p) => `er „${p}“ ausführt`,
    thenText: 'schließt das System die Aktion ab und zeigt das Ergebnis',
    must: (p) => `Das System MUSS „${p}“ unterstützen.`,
    mustAuth: (m) => `Das System MUSS Nutzer über ${m} authentifizieren.`,
    mustRetain: (m) => `Das System MUSS Nutzerdaten für ${m} aufbewahren.`,
    entityText: 'in der Idee genannt; Attribute und Beziehungen sind noch festzulegen.',
    fields: 'weitere Felder noch offen',
    nfr: [
      'Leistung: 95 % der Nutzeraktionen werden unter erwarteter Last in weniger als 1 Sekunde abgeschlossen.',
      'Verfügbarkeit: mindestens 99,5 % monatliche Betriebszeit.',
      'Sicherheit und Datenschutz: personenbezogene Daten werden bei Übertragung und Speicherung verschlüsselt und sind nur für berechtigte Nutzer sichtbar.',
      'Barrierefreiheit: die Oberfläche erfüllt WCAG 2.1 AA.',
      'Lokalisierung: Oberfläche und Inhalte unterstützen die Sprache der Idee.',
    ],
    architecture: [
      'Client: eine Web- oder Mobiloberfläche für die obigen Szenarien.',
      'Anwendungsdienst: prüft Anfragen und setzt die funktionalen Anforderungen um.',
      'Speicher: eine Datenbank mit den zentralen Entitäten.',
    ],
    api: [
      `${API_PATHS[0]} — eine Ressource auflisten und durchsuchen (eine Ressource je zentraler Entität).`,
      `${API_PATHS[1]} — anlegen.`,
      `${API_PATHS[2]} — lesen, ändern, löschen.`,
      'Fehler verwenden ein einheitliches JSON-Format mit stabilem Code; alle Endpunkte erfordern Authentifizierung.',
    ],
    milestones: [
      'M1 — Prototyp: FR-001 funktioniert durchgängig für einen Nutzer.',
      'M2 — MVP: alle MUSS-Anforderungen und NFR-001…NFR-003 sind erfüllt; erste echte Nutzer.',
      'M3 — Start: Die Erfolgskriterien werden gemessen, alle offenen Fragen sind geklärt.',
    ],
    success: ['Ein neuer Nutzer schließt Szenario 1 ohne Hilfe in unter 3 Minuten ab.', '90 % der Nutzer schließen Szenario 1 beim ersten Versuch ab.'],
    risks: [
      'Annahme: Nutzer haben ein Gerät mit Internetzugang.',
      'Risiko: Die Idee beschreibt mehr, als ein erstes Release fassen kann; der MVP-Umfang muss bewusst gekürzt werden.',
    ],
    ask: {
      users: 'Wer sind die Hauptnutzer, und was brauchen sie am dringendsten?',
      scope: 'Was gehört ausdrücklich nicht zum ersten Release?',
      outcome: 'Welches beobachtbare Ergebnis gilt als Erfolg?',
      edge: 'Was soll bei ungültigen Eingaben, Verbindungsabbruch oder gleichzeitiger Bearbeitung geschehen?',
      auth: 'Welche Anmeldemethode: E-Mail und Passwort, Single Sign-on oder Social Login?',
      retention: 'Wie lange werden Nutzerdaten aufbewahrt, und können Nutzer sie löschen?',
      entities: 'Welche Objekte oder Datensätze verwaltet das Produkt?',
      integrations: 'Von welchen externen Diensten hängt es ab (Zahlung, E-Mail, Karten …)?',
      metric: 'Welche Geschäftskennzahl definiert Erfolg, z. B. wöchentlich aktive Nutzer nach drei Monaten?',
      scale: 'Wie viele Nutzer und welche Datenmenge werden im ersten Jahr erwartet?',
    },
  },
};

// Function words: they identify Latin-script languages and are never key terms.
const FUNCTION_WORDS: Readonly<Record<Lang, readonly string[]>> = {
  en: ['the', 'and', 'for', 'with', 'to', 'of', 'is', 'a', 'an', 'that', 'this', 'i', 'we', 'my', 'our', 'from', 'have', 'will', 'they', 'their', 'them', 'there', 'then', 'than', 'what', 'when', 'where', 'which', 'while', 'would', 'should', 'could', 'about', 'into', 'your', 'also', 'just', 'like', 'want', 'wants', 'need', 'needs', 'able', 'allow', 'allows', 'using', 'make', 'makes', 'some', 'more', 'most', 'very', 'each', 'other', 'every', 'only', 'help', 'helps', 'can'],
  es: ['el', 'los', 'las', 'una', 'para', 'con', 'del', 'por', 'que', 'y', 'es', 'un', 'mi', 'de', 'como', 'pero', 'este', 'esta', 'estos', 'estas', 'unos', 'unas', 'donde', 'cuando', 'quiero', 'queremos', 'puede', 'pueden', 'sobre', 'entre', 'tiene', 'tienen', 'hacer', 'también', 'desde', 'todo', 'todos', 'cada', 'sus'],
  fr: ['le', 'les', 'des', 'une', 'pour', 'avec', 'du', 'et', 'est', 'qui', 'dans', 'un', 'je', 'mon', 'de', 'sont', 'mais', 'cette', 'ces', 'leur', 'leurs', 'nous', 'vous', 'elle', 'elles', 'peut', 'peuvent', 'faire', 'aussi', 'tout', 'tous', 'chaque', 'entre', 'comme', 'veux', 'voudrais', 'aux'],
  de: ['der', 'die', 'das', 'und', 'ist', 'mit', 'für', 'ein', 'eine', 'den', 'dem', 'ich', 'zu', 'mein', 'nicht', 'einen', 'einem', 'einer', 'oder', 'aber', 'auch', 'sich', 'sind', 'wird', 'werden', 'kann', 'können', 'über', 'unter', 'durch', 'diese', 'dieser', 'dieses', 'ihre', 'seine', 'wenn', 'dass', 'möchte', 'wir', 'von'],
  ru: ['который', 'которые', 'чтобы', 'может', 'могут', 'этот', 'эта', 'это', 'для', 'как', 'так', 'также', 'или', 'есть', 'будет', 'хочу', 'нужно', 'можно', 'которое', 'которая'],
  zh: ['一个', '可以', '我们', '他们', '这个', '那个', '用于', '能够', '进行', '通过', '以及', '如果', '因为', '所以', '自己', '什么', '帮助'],
  ja: ['こと', 'もの', 'ため', 'できる', 'する', 'よう'],
  ko: ['그리고', '하는', '있는', '위한', '통해', '수'],
};

const LATIN_LANGS = ['en', 'es', 'fr', 'de'] as const;
const TERM_STOPWORDS = new Set(Object.values(FUNCTION_WORDS).flat());

const SCRIPTS = [
  ['cjk', /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['hangul', /\p{Script=Hangul}/u],
  ['cyrillic', /\p{Script=Cyrillic}/u],
  ['latin', /\p{Script=Latin}/u],
  ['other', /\p{L}/u],
] as const;
type Script = (typeof SCRIPTS)[number][0];

const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/u;
const CJK_OR_HANGUL = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
// Japanese nouns carry kanji or katakana; pure-hiragana words are mostly grammar.
const JAPANESE_NOUNISH = /[\p{Script=Han}\p{Script=Katakana}]/u;
// Korean glues particles onto nouns (산책을, 산책이); dropping one lets both count as 산책.
const KOREAN_PARTICLE = /(?:으로|에서|에게|은|는|이|가|을|를|에|의|로|와|과|도)$/u;

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
function detectLanguage(text: string): Lang {
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

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * Shortens by whole grapheme clusters so emoji sequences and combining marks stay
 * intact, and at a space when one is near the end so words stay whole.
 */
function truncate(text: string, max: number): string {
  const clusters = Array.from(graphemes.segment(text), (s) => s.segment);
  if (clusters.length <= max) return text;
  const cut = clusters.slice(0, max - 1).join('');
  const space = cut.lastIndexOf(' ');
  return `${space > cut.length / 2 ? cut.slice(0, space) : cut}…`;
}

// ASCII sentence punctuation only counts before whitespace, so "v1.2", "e.g.x" and URLs survive.
const CLAUSE_BREAK = /(?:[.!?;:,](?=\s|$)|[。！？；：，、…\r\n؟،؛।])+/u;
const LEADING_NOISE = /^[\s>#*+\-–—•·"'“”‘’«»„「『]+/u;
const TRAILING_NOISE = /[\s.,;:!?…。，、；：！？"'“”‘’«»」』]+$/u;

/** The idea's clauses, in order, without list markers, quotes or duplicates. */
function clauses(idea: string): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const raw of idea.split(CLAUSE_BREAK)) {
    const clause = raw.replace(LEADING_NOISE, '').replace(TRAILING_NOISE, '');
    const key = clause.toLowerCase();
    if (clause && !seen.has(key)) {
      seen.add(key);
      result.push(clause);
    }
  }
  return result;
}

// Short words in spaced scripts are mostly grammar, while two CJK or Hangul characters often make a whole noun.
function isKeyTerm(word: string, lang: Lang): boolean {
  if (!/\p{L}/u.test(word) || TERM_STOPWORDS.has(word.toLowerCase())) return false;
  if (!CJK_OR_HANGUL.test(word)) return [...word].length >= 4;
  if (lang === 'ja' && !JAPANESE_NOUNISH.test(word)) return false;
  return [...word].length >= 2;
}

/** The idea's most frequent content words, first occurrence breaking ties; ICU segments scripts without spaces. */
function keyTerms(idea: string, lang: Lang, limit: number): string[] {
  const counts = new Map<string, { term: string; count: number; first: number }>();
  for (const { segment, isWordLike } of new Intl.Segmenter(lang, { granularity: 'word' }).segment(idea)) {
    if (!isWordLike) continue;
    const word = lang === 'ko' && [...segment].length > 2 ? segment.replace(KOREAN_PARTICLE, '') : segment;
    if (!isKeyTerm(word, lang)) continue;
    const key = word.toLowerCase();
    const entry = counts.get(key) ?? { term: word, count: 0, first: counts.size };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()]
    .sort((a, b) => b.count - a.count || a.first - b.first)
    .slice(0, limit)
    .map((e) => e.term);
}

/** Backslash-escapes what Markdown would otherwise read as formatting or raw HTML. */
function escapeInline(text: string): string {
  return text.replace(/[\\`*_[\]<>#|~]/g, '\\$&');
}

/** A code fence longer than any backtick run in the text, so the text cannot close it. */
function fence(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  return '`'.repeat(Math.max(3, longestRun + 1));
}

const LIMITS: Readonly<Record<TemplateName, { goals: number; scenarios: number; requirements: number; terms: number; nfr: number }>> = {
  lean: { goals: 2, scenarios: 1, requirements: 3, terms: 3, nfr: 3 },
  standard: { goals: 3, scenarios: 3, requirements: 6, terms: 5, nfr: 5 },
  technical: { goals: 3, scenarios: 2, requirements: 8, terms: 6, nfr: 5 },
};

const TITLE_GRAPHEMES = 60;
const PHRASE_GRAPHEMES = 100;

interface Draft {
  idea: string;
  labels: Labels;
  limits: (typeof LIMITS)[TemplateName];
  title: string;
  /** Clauses after the title clause (all of them when there is only one), escaped for Markdown. */
  details: string[];
  goals: string[];
  terms: string[];
  /** Questions asked so far, in order; Open Questions lists them. */
  asked: Set<string>;
}

function createDraft(idea: string, template: TemplateName): Draft {
  const lang = detectLanguage(idea);
  const labels = LABELS[lang];
  const limits = LIMITS[template];
  const found = clauses(idea);
  const phrases = found.map((c) => escapeInline(truncate(c, PHRASE_GRAPHEMES)));
  return {
    idea,
    labels,
    limits,
    title: found.length > 0 ? escapeInline(truncate(found[0], TITLE_GRAPHEMES)) : labels.untitled,
    details: phrases.length > 1 ? phrases.slice(1) : phrases,
    goals: phrases.slice(0, limits.goals),
    terms: keyTerms(idea, lang, limits.terms).map(escapeInline),
    asked: new Set(),
  };
}

function marker(question: string): string {
  return `[NEEDS CLARIFICATION: ${question}]`;
}

function ask(draft: Draft, question: Question): string {
  const text = draft.labels.ask[question];
  draft.asked.add(text);
  return marker(text);
}

const id = (prefix: string, n: number) => `${prefix}-${String(n).padStart(3, '0')}`;
const bullets = (items: readonly string[]) => items.map((item) => `- ${item}`).join('\n');

function labelled(draft: Draft, label: string, text: string): string {
  return `**${label}**${draft.labels.colon}${text}`;
}

function numbered(draft: Draft, prefix: string, items: readonly string[]): string {
  return bullets(items.map((item, i) => labelled(draft, id(prefix, i + 1), item)));
}

function overview(d: Draft): string {
  const f = fence(d.idea);
  return `**${d.labels.ideaLead}**\n\n${f}\n${d.idea}\n${f}\n\n${d.labels.summary}`;
}

function goals(d: Draft): string {
  const L = d.labels;
  return bullets([...d.goals.map((g) => labelled(d, L.goal, g)), labelled(d, L.nonGoal, ask(d, 'scope'))]);
}

function scenario(d: Draft, phrase: string, n: number): string {
  const L = d.labels;
  const criterion = `**${L.given}** ${L.givenText}${L.comma}**${L.when}** ${L.whenText(phrase)}${L.comma}**${L.then}** ${L.thenText} ${ask(d, 'outcome')}${L.period}`;
  return `### ${L.scenario} ${n} (P${n})\n\n- ${criterion}`;
}

function users(d: Draft): string {
  const L = d.labels;
  const people = `- ${labelled(d, L.primaryUsers, ask(d, 'users'))}`;
  const scenarios = d.details.slice(0, d.limits.scenarios).map((p, i) => scenario(d, p, i + 1));
  const edges = `- ${labelled(d, L.edgeCases, ask(d, 'edge'))}`;
  return [people, ...scenarios, edges].join('\n\n');
}

function functional(d: Draft): string {
  const L = d.labels;
  const fromIdea = d.details.slice(0, d.limits.requirements).map(L.must);
  return numbered(d, 'FR', [...fromIdea, L.mustAuth(ask(d, 'auth')), L.mustRetain(ask(d, 'retention'))]);
}

function nonFunctional(d: Draft): string {
  return numbered(d, 'NFR', [...d.labels.nfr.slice(0, d.limits.nfr), ask(d, 'scale')]);
}

function entities(d: Draft): string {
  if (d.terms.length === 0) return `- ${ask(d, 'entities')}`;
  return bullets(d.terms.map((term) => labelled(d, term, d.labels.entityText)));
}

function dataModel(d: Draft): string {
  if (d.terms.length === 0) return `- ${ask(d, 'entities')}`;
  return bullets(d.terms.map((term) => labelled(d, term, `\`id\`, \`created_at\`, \`updated_at\`, ${d.labels.fields}`)));
}

function architecture(d: Draft): string {
  return bullets([...d.labels.architecture, ask(d, 'integrations')]);
}

function api(d: Draft): string {
  return bullets(d.labels.api);
}

function milestones(d: Draft): string {
  return d.labels.milestones.map((m, i) => `${i + 1}. ${m}`).join('\n');
}

function success(d: Draft): string {
  return numbered(d, 'SC', [...d.labels.success, ask(d, 'metric')]);
}

function risks(d: Draft): string {
  return bullets(d.labels.risks);
}

function openQuestions(d: Draft): string {
  return bullets([...d.asked].map(marker));
}

const SECTION_BODIES: Readonly<Record<SectionId, (draft: Draft) => string>> = {
  overview,
  goals,
  users,
  functional,
  nonFunctional,
  entities,
  dataModel,
  architecture,
  api,
  milestones,
  success,
  risks,
  openQuestions,
};

/**
 * A deterministic Markdown spec for `template`, built from the idea's own words
 * with headings in the idea's language where a dictionary exists.
 */
export function draftOffline(idea: string, template: TemplateName): string {
  const draft = createDraft(idea, template);
  const header = `> **${OFFLINE_LABEL}** ${draft.labels.note}\n\n# ${draft.title}`;
  // Sections render in template order, so Open Questions (always last) sees every question asked above it.
  const sections = TEMPLATE_SECTIONS[template].map((section) => `## ${draft.labels.sections[section]}\n\n${SECTION_BODIES[section](draft)}`);
  return `${[header, ...sections].join('\n\n')}\n`;
}

// Preferred cut points, best first: before a heading, after a blank line, after a line, after a space.
const BREAKS = [
  { text: '\n#', keep: 1 },
  { text: '\n\n', keep: 2 },
  { text: '\n', keep: 1 },
  { text: ' ', keep: 1 },
] as const;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function chunkEnd(text: string, start: number, maxChunk: number): number {
  if (text.length - start <= maxChunk) return text.length;
  const window = text.slice(start, start + maxChunk);
  for (const { text: sep, keep } of BREAKS) {
    const at = window.lastIndexOf(sep);
    if (at >= 0) return start + at + keep;
  }
  const end = start + maxChunk;
  return isHighSurrogate(text.charCodeAt(end - 1)) ? end - 1 : end;
}

/**
 * Splits text into chunks of at most `maxChunk` UTF-16 units, cutting at section
 * and paragraph boundaries where possible and never between a surrogate pair;
 * the chunks concatenate back to the input exactly.
 */
export function splitIntoChunks(markdown: string, maxChunk = 400): string[] {
  // Below 2 a chunk could not hold a whole surrogate pair.
  if (!Number.isInteger(maxChunk) || maxChunk < 2) throw new RangeError(`maxChunk must be an integer >= 2, got ${maxChunk}`);
  const chunks: string[] = [];
  for (let start = 0; start < markdown.length; ) {
    const end = chunkEnd(markdown, start, maxChunk);
    chunks.push(markdown.slice(start, end));
    start = end;
  }
  return chunks;
}
