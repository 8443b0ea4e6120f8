export interface Series {
  name: string;
  color: string;
  points: Array<[number, number | undefined]>;
}

export interface Panel {
  title: string;
  unit: string;
  series: Series[];
}

const WIDTH = 760;
const PANEL_HEIGHT = 230;
const PAD = { left: 64, right: 16, top: 34, bottom: 36 };

const escape = (text: string) => text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(1));

/** Line charts stacked in one standalone SVG, x in seconds; a missing value breaks its line rather than dropping to zero. */
export function svgChart(panels: Panel[]): string {
  const body = panels.map((panel, i) => renderPanel(panel, i * PANEL_HEIGHT)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${panels.length * PANEL_HEIGHT}" viewBox="0 0 ${WIDTH} ${panels.length * PANEL_HEIGHT}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="#fff"/>
${body}
</svg>
`;
}

function renderPanel(panel: Panel, top: number): string {
  const xs = panel.series.flatMap((s) => s.points.map(([x]) => x));
  const ys = panel.series.flatMap((s) => s.points.flatMap(([, y]) => (y === undefined ? [] : [y])));
  const [x0, x1] = [Math.min(0, ...xs), Math.max(1, ...xs)];
  const y1 = ys.length ? Math.max(...ys) * 1.1 || 1 : 1;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = PANEL_HEIGHT - PAD.top - PAD.bottom;
  const px = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number) => top + PAD.top + plotH - (y / y1) * plotH;

  const parts = [
    `<text x="${PAD.left}" y="${top + 20}" font-size="13" font-weight="bold">${escape(panel.title)} (${escape(panel.unit)})</text>`,
    `<line x1="${PAD.left}" y1="${py(0)}" x2="${WIDTH - PAD.right}" y2="${py(0)}" stroke="#999"/>`,
    `<line x1="${PAD.left}" y1="${py(0)}" x2="${PAD.left}" y2="${py(y1)}" stroke="#999"/>`,
    ...[0, 0.5, 1].map(
      (f) => `<text x="${PAD.left - 6}" y="${py(y1 * f) + 4}" text-anchor="end">${fmt(y1 * f)}</text>`,
    ),
    `<text x="${PAD.left}" y="${py(0) + 16}">${fmt(x0)} s</text>`,
    `<text x="${WIDTH - PAD.right}" y="${py(0) + 16}" text-anchor="end">${fmt(x1)} s</text>`,
  ];
  if (ys.length === 0)
    parts.push(`<text x="${WIDTH / 2}" y="${top + PANEL_HEIGHT / 2}" text-anchor="middle" fill="#666">no data</text>`);
  panel.series.forEach((series, i) => {
    for (const run of runs(series.points)) {
      const path = run.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
      parts.push(
        run.length === 1
          ? `<circle cx="${px(run[0]![0])}" cy="${py(run[0]![1])}" r="2" fill="${series.color}"/>`
          : `<polyline fill="none" stroke="${series.color}" stroke-width="1.5" points="${path}"/>`,
      );
    }
    const lx = PAD.left + 220 + i * 130;
    parts.push(
      `<rect x="${lx}" y="${top + 11}" width="10" height="10" fill="${series.color}"/><text x="${lx + 14}" y="${top + 20}">${escape(series.name)}</text>`,
    );
  });
  return `<g>${parts.join('\n')}</g>`;
}

/** Consecutive points that have a value. */
function runs(points: Series['points']): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [[]];
  for (const [x, y] of points) {
    if (y === undefined) out.push([]);
    else out.at(-1)!.push([x, y]);
  }
  return out.filter((r) => r.length > 0);
}
