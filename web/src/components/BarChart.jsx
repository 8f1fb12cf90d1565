// A bar chart drawn with uPlot: categories along the bottom, one bar per category.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { t } from '../i18n.js';

/** `labels`: category names; `values`: one number each; `format(value)`: axis and tooltip text. */
export function BarChart({ labels, values, format = String, color = '#2f6f8f', height = 220, testId }) {
  const host = useRef(null);
  useEffect(() => {
    if (!host.current || labels.length === 0) return undefined;
    const width = Math.max(host.current.clientWidth || 0, 320);
    const xs = labels.map((_, i) => i);
    const bars = uPlot.paths.bars({ size: [0.6, 64], align: 0 });
    const chart = new uPlot({
      width,
      height,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (_, min, max) => [0, Math.max(max, 1) * 1.1] } },
      axes: [
        { values: (_, ticks) => ticks.map((tick) => labels[tick] ?? ''), splits: () => xs, gap: 4, size: 40 },
        { values: (_, ticks) => ticks.map(format), size: 90 },
      ],
      series: [{}, { fill: color, stroke: color, paths: bars, points: { show: false } }],
    }, [xs, values], host.current);
    return () => chart.destroy();
  }, [JSON.stringify(labels), JSON.stringify(values)]);
  if (values.every((value) => !value)) return <p class="muted">{t('none')}</p>;
  return <div class="chart" ref={host} data-testid={testId} role="img" aria-label={labels.map((l, i) => `${l}: ${format(values[i])}`).join(', ')} />;
}
