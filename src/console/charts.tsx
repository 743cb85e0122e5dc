/** @jsxImportSource hono/jsx */
// Charts drawn on the server as SVG, with the numbers as a table beside them. Why not a charting
// library: the console's CSP allows no inline script, pages must print and work without script,
// and a screen reader needs the numbers; a server-side bar chart gives all three in a few lines.
const COLOURS = ['#1f4e8c', '#a4161a', '#8a5300'];

export function BarChart(props: { title: string; series: string[]; rows: { label: string; values: number[] }[] }) {
  const width = 560;
  const height = 200;
  const pad = { left: 36, bottom: 24, top: 8 };
  const max = Math.max(1, ...props.rows.map((r) => r.values.reduce((a, b) => a + b, 0)));
  const slot = (width - pad.left) / Math.max(1, props.rows.length);
  const scale = (v: number) => (v / max) * (height - pad.bottom - pad.top);
  return (
    <figure>
      <svg class="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={props.title}>
        <line x1={pad.left} y1={height - pad.bottom} x2={width} y2={height - pad.bottom} stroke="#8a94a3" />
        <text x={pad.left - 6} y={pad.top + 10} text-anchor="end" font-size="11" fill="#4a5566">
          {max}
        </text>
        {props.rows.map((r, i) => {
          let y = height - pad.bottom;
          return (
            <g>
              {r.values.map((v, k) => {
                const h = scale(v);
                y -= h;
                return <rect x={pad.left + i * slot + 2} y={y} width={Math.max(2, slot - 4)} height={h} fill={COLOURS[k % COLOURS.length]} />;
              })}
              {i % 2 === 0 ? (
                <text x={pad.left + i * slot + slot / 2} y={height - 8} text-anchor="middle" font-size="10" fill="#4a5566">
                  {r.label}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption class="muted">
        {props.series.map((s, k) => (
          <span>
            <span class="swatch" data-colour={String(k)}>
              ■
            </span>{' '}
            {s}{' '}
          </span>
        ))}
      </figcaption>
      <details>
        <summary>Cijfers</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Dag</th>
              {props.series.map((s) => (
                <th scope="col">{s}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr>
                <td>{r.label}</td>
                {r.values.map((v) => (
                  <td>{v}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
