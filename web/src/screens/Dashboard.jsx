// Head office at a glance: the pipeline, revenue and load per tour, stock exceptions, open
// alerts and devices that have been silent for a day.
import { useApi } from '../api.js';
import { amounts, dateTime, money, number, percent, stageName, t, valueName } from '../i18n.js';
import { BarChart } from '../components/BarChart.jsx';
import { Message, Section } from '../components/Form.jsx';

const DAY_MS = 86_400_000;

/** The currency most of the money is in: the charts draw that one. */
function mainCurrency(sums) {
  const entries = Object.entries(sums || {});
  if (entries.length === 0) return 'EUR';
  return entries.sort((a, b) => b[1] - a[1])[0][0];
}

const csv = (report, table) => (
  <a class="button secondary small" href={`/api/v1/reports/${report}/csv?table=${table}`} download>{t('exportCsv')}</a>
);

function Tile({ label, value, testId }) {
  return (
    <div class="tile" data-testid={testId}>
      <div class="tile-value">{value}</div>
      <div class="tile-label">{label}</div>
    </div>
  );
}

export function Dashboard() {
  const pipeline = useApi('/reports/pipeline', { kinds: ['account'] });
  const revenue = useApi('/reports/revenue', { kinds: ['booking', 'departure', 'invoice', 'catalog', 'employee'] });
  const stock = useApi('/reports/stock', { kinds: ['stock', 'departure', 'catalog', 'booking'] });
  const alerts = useApi('/alerts?status=open', { kinds: ['alerts'] });
  const health = useApi('/reports/sync-health');
  const error = pipeline.error || revenue.error || stock.error || alerts.error || health.error;
  if (error) return <Message error={error} />;
  if (!pipeline.data || !revenue.data || !stock.data || !alerts.data || !health.data) return <p class="muted">{t('loading')}</p>;

  const p = pipeline.data;
  const currency = mainCurrency(p.open.value);
  const tours = revenue.data.tours;
  const tourCurrency = mainCurrency(Object.assign({}, ...tours.map((tour) => tour.booked)));
  const silent = health.data.devices.filter((device) => device.silent_for_ms >= DAY_MS);
  const locationName = Object.fromEntries(stock.data.locations.map((l) => [l.location, l.name]));
  const itemName = Object.fromEntries(stock.data.locations.flatMap((l) => l.items.map((i) => [i.item, i.name || i.item])));

  return (
    <div class="dashboard">
      <h1>{t('dashboard')}</h1>
      <div class="tiles">
        <Tile label={t('openPipeline')} value={amounts(p.open.value)} testId="kpi-open-pipeline" />
        <Tile label={t('weighted')} value={amounts(p.open.weighted_value)} testId="kpi-weighted" />
        <Tile label={`${t('won')} / ${t('lost')}`} value={`${p.won} / ${p.lost}`} testId="kpi-won-lost" />
        <Tile label={t('openAlerts')} value={number(alerts.data.length)} testId="kpi-open-alerts" />
        <Tile label={t('silentDevices')} value={number(silent.length)} testId="kpi-silent-devices" />
      </div>
      <div class="grid">
        <Section title={t('pipelineByStage')} actions={csv('pipeline', 'by_stage')} testId="pipeline-by-stage">
          <BarChart labels={p.by_stage.map((g) => stageName(g.key))} values={p.by_stage.map((g) => g.value[currency] || 0)}
            format={(v) => money(v, currency)} />
          <table>
            <thead><tr><th>{t('stage')}</th><th>#</th><th>{t('amount')}</th><th>{t('weighted')}</th></tr></thead>
            <tbody>{p.by_stage.map((g) => (
              <tr key={g.key}><td>{stageName(g.key)}</td><td>{g.count}</td><td>{amounts(g.value)}</td><td>{amounts(g.weighted_value)}</td></tr>
            ))}</tbody>
          </table>
        </Section>
        <Section title={t('pipelineByRep')} actions={csv('pipeline', 'by_rep')} testId="pipeline-by-rep">
          <BarChart labels={p.by_rep.map((g) => g.key)} values={p.by_rep.map((g) => g.value[currency] || 0)}
            format={(v) => money(v, currency)} color="#8f5f2f" />
          <table>
            <thead><tr><th>{t('rep')}</th><th>#</th><th>{t('amount')}</th></tr></thead>
            <tbody>{p.by_rep.map((g) => <tr key={g.key}><td>{g.key}</td><td>{g.count}</td><td>{amounts(g.value)}</td></tr>)}</tbody>
          </table>
        </Section>
        <Section title={t('revenuePerTour')} actions={csv('revenue', 'tours')} testId="revenue-per-tour">
          <BarChart labels={tours.map((tour) => tour.name || tour.tour)} values={tours.map((tour) => tour.booked[tourCurrency] || 0)}
            format={(v) => money(v, tourCurrency)} color="#3f8f4f" />
          <table>
            <thead><tr><th>{t('tour')}</th><th>{t('departuresCount')}</th><th>{t('seats')}</th><th>{t('booked')}</th><th>{t('invoiced')}</th></tr></thead>
            <tbody>{tours.map((tour) => (
              <tr key={tour.tour}><td>{tour.name || tour.tour}</td><td>{tour.departures}</td><td>{tour.seats_confirmed} / {tour.capacity}</td>
                <td>{amounts(tour.booked)}</td><td>{amounts(tour.invoiced)}</td></tr>
            ))}</tbody>
          </table>
        </Section>
        <Section title={t('loadFactor')} testId="load-factor">
          <BarChart labels={tours.map((tour) => tour.name || tour.tour)} values={tours.map((tour) => Math.round((tour.load_factor || 0) * 100))}
            format={(v) => `${v}%`} color="#6f4f8f" />
          <table>
            <tbody>{tours.map((tour) => <tr key={tour.tour}><td>{tour.name || tour.tour}</td><td>{percent(tour.load_factor)}</td></tr>)}</tbody>
          </table>
        </Section>
        <Section title={t('stockExceptions')} actions={csv('stock', 'exceptions')} testId="stock-exceptions">
          <table>
            <thead><tr><th>{t('location')}</th><th>{t('item')}</th><th>{t('status')}</th><th>{t('onHand')}</th><th>{t('projected')}</th><th>{t('reorderPoint')}</th></tr></thead>
            <tbody>{stock.data.exceptions.map((e) => (
              <tr key={`${e.location}-${e.item}`}><td><a href={`/stock/${e.location}`}>{locationName[e.location] || e.location}</a></td>
                <td>{itemName[e.item] || e.item}</td><td>{valueName(e.exception)}</td><td>{e.on_hand}</td><td>{e.projected}</td><td>{e.reorder_point ?? ''}</td></tr>
            ))}</tbody>
          </table>
          {stock.data.exceptions.length === 0 && <p class="muted">{t('none')}</p>}
        </Section>
        <Section title={t('openAlerts')} actions={<a href="/alerts">{t('alerts')}</a>} testId="open-alerts">
          <ul class="plain">{alerts.data.slice(0, 8).map((alert) => (
            <li key={alert.key}><span class={`badge ${alert.severity}`}>{alert.severity}</span> {alert.message}</li>
          ))}</ul>
          {alerts.data.length === 0 && <p class="muted">{t('none')}</p>}
        </Section>
        <Section title={t('silentDevices')} actions={csv('sync-health', 'devices')} testId="silent-devices">
          <table>
            <thead><tr><th>{t('user')}</th><th>{t('device')}</th><th>{t('lastSeen')}</th><th>{t('pending')}</th></tr></thead>
            <tbody>{silent.map((d) => (
              <tr key={d.peer_id}><td>{d.user}</td><td>{d.peer_id}</td><td>{dateTime(d.last_seen)}</td><td>{d.pending_documents}</td></tr>
            ))}</tbody>
          </table>
          {silent.length === 0 && <p class="muted">{t('none')}</p>}
        </Section>
      </div>
    </div>
  );
}
