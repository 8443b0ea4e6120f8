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
  return value as StreamEvent;
}
