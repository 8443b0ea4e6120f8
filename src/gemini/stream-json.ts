/**
 * The Gemini CLI's `--output-format stream-json` events (one JSON object per line).
 * Only the fields the service uses are typed; everything else is passed through.
 */
export type StreamEvent =
  | { type: 'init'; session_id?: string; model?: string }
  | { type: 'message'; role: 'user' | 'assistant'; content: string; delta?: boolean }
  | { type: 'tool_use'; tool_name?: string; tool_id?: string; parameters?: unknown }
  | { type: 'tool_result'; tool_id?: string; status?: string }
  | { type: 'error'; severity?: string; message?: string }
  | { type: 'result'; status?: string; error?: { type?: string; message?: string }; stats?: Record<string, unknown> };

const KNOWN = new Set(['init', 'message', 'tool_use', 'tool_result', 'error', 'result']);

/** Parses one line; undefined for blank lines, non-JSON noise and unknown event types. */
export function parseStreamLine(line: string): StreamEvent | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !KNOWN.has(type)) return undefined;
  if (type === 'message' && typeof (value as { content?: unknown }).content !== 'string') return undefined;
  return typedFields(value as Record<string, unknown>) as StreamEvent;
}

/** Fields the service reads as text, by event type: another JSON type there is dropped, as if absent. */
const TEXT_FIELDS: Record<string, string[]> = {
  init: ['session_id', 'model'],
  message: ['role'],
  tool_use: ['tool_name', 'tool_id'],
  tool_result: ['tool_id', 'status'],
  error: ['severity', 'message'],
  result: ['status'],
};

function typedFields(event: Record<string, unknown>): Record<string, unknown> {
  const typed = { ...event };
  for (const key of TEXT_FIELDS[event.type as string] ?? []) if (typeof typed[key] !== 'string') delete typed[key];
  if (event.type === 'result') {
    const error = typed.error;
    if (typeof error !== 'object' || error === null || Array.isArray(error)) delete typed.error;
    else typed.error = Object.fromEntries(Object.entries(error).filter(([, v]) => typeof v === 'string'));
    const stats = typed.stats;
    if (typeof stats !== 'object' || stats === null || Array.isArray(stats)) delete typed.stats;
  }
  return typed;
}
