/** @jsxImportSource hono/jsx */
// Charts for the overview, drawn in the browser by Chart.js (vendored from node_modules and served
// by the hub: src/node/console-assets.ts). The console's CSP allows no inline script, so a chart's
// data travels in a data- attribute that the served charts.js reads. The numbers are always there
// as a table: the accessible version, what prints, and what shows without script (charts.js folds
// it away under "Cijfers" once the chart is drawn).
const COLOURS = ['#1f4e8c', '#a4161a', '#8a5300', '#2d6a4f', '#5a189a', '#495057'];

export type ChartData = { title: string; series: string[]; rows: { label: string; values: number[] }[]; stacked?: boolean };

/** What charts.js hands to Chart.js: a bar chart, one dataset per series. */
export function chartConfig(props: ChartData) {
  return {
    type: 'bar',
    data: {
      labels: props.rows.map((r) => r.label),
      datasets: props.series.map((s, k) => ({ label: s, data: props.rows.map((r) => r.values[k] ?? 0), backgroundColor: COLOURS[k % COLOURS.length] })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { x: { stacked: props.stacked ?? true }, y: { stacked: props.stacked ?? true, beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { position: 'bottom' } },
    },
  };
}

export function BarChart(props: ChartData) {
  return (
    <figure class="chart" data-chart={JSON.stringify(chartConfig(props))} data-title={props.title}>
      <div class="chart-box"></div>
      <details open>
        <summary>Cijfers</summary>
        <table>
          <caption class="muted">{props.title}</caption>
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
                <th scope="row">{r.label}</th>
                {props.series.map((_, k) => (
                  <td>{r.values[k] ?? 0}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
