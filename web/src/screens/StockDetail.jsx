// One location: what is on hand against its reorder points, and its movements.
import { useApi } from '../api.js';
import { dateTime, number, t } from '../i18n.js';
import { Message, Section } from '../components/Form.jsx';
import { TransfersInFlight } from './Stock.jsx';
import { useCatalog } from './Departures.jsx';

export function StockDetail({ id }) {
  const doc = useApi(`/documents/${id}`, { ids: [id] });
  const catalog = useCatalog();
  if (doc.error) return <Message error={doc.error} />;
  if (!doc.data) return <p class="muted">{t('loading')}</p>;
  const location = doc.data.record;
  const items = catalog.items || {};
  const movements = Object.entries(location.movements || {}).sort(([a], [b]) => b.localeCompare(a)).slice(0, 100);
  return (
    <div data-testid="stock-detail">
      <h1>{location.name}</h1>
      <p class="muted">{location.location_kind} · {location.custodian}</p>
      <div class="grid">
        <Section title={t('onHand')} testId="on-hand">
          <table>
            <thead><tr><th>{t('item')}</th><th>{t('onHand')}</th><th>{t('reorderPoint')}</th></tr></thead>
            <tbody>{Object.entries(location.on_hand || {}).map(([item, quantity]) => {
              const reorder = items[item]?.reorder_points?.[id];
              const low = reorder !== undefined && quantity < reorder;
              return (
                <tr key={item} class={quantity < 0 || low ? 'warning' : ''}>
                  <td>{items[item]?.name || item}</td><td>{number(quantity)}</td><td>{reorder ?? ''}</td>
                </tr>
              );
            })}</tbody>
          </table>
        </Section>
        <Section title={t('movements')} testId="movements">
          <table>
            <thead><tr><th>{t('when')}</th><th>{t('item')}</th><th>{t('quantity')}</th><th>{t('reason')}</th><th>{t('actor')}</th></tr></thead>
            <tbody>{movements.map(([key, m]) => (
              <tr key={key}><td>{dateTime(m.at)}</td><td>{items[m.item]?.name || m.item}</td><td>{number(m.quantity)}</td><td>{m.reason}</td><td>{m.actor}</td></tr>
            ))}</tbody>
          </table>
        </Section>
      </div>
      <TransfersInFlight filters={{ from: id }} />
      <TransfersInFlight filters={{ to: id }} />
    </div>
  );
}
