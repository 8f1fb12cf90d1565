// The authority's alerts: acknowledge what is being handled, resolve what is done.
import { useLocation } from 'preact-iso';
import { api, useApi } from '../api.js';
import { dateTime, t } from '../i18n.js';
import { Message, Select } from '../components/Form.jsx';

const STATUSES = ['open', 'acknowledged', 'resolved'];

export function Alerts() {
  const { query, route } = useLocation();
  const status = query.status ?? 'open';
  const alerts = useApi(`/alerts${status ? `?status=${status}` : ''}`, { kinds: ['alerts'] });
  const act = async (key, action) => {
    await api(`/alerts/${encodeURIComponent(key)}/${action}`, { method: 'POST' });
    alerts.reload();
  };
  return (
    <div data-testid="alerts">
      <h1>{t('alerts')}</h1>
      <Select label={t('status')} value={status} options={[['', t('all')], ...STATUSES.map((s) => [s, t(s)])]}
        onChange={(v) => route(`/alerts?status=${v}`)} />
      <Message error={alerts.error} />
      <table>
        <thead><tr><th>{t('severity')}</th><th>{t('rule')}</th><th>{t('message')}</th><th>{t('raised')}</th><th>{t('status')}</th><th /></tr></thead>
        <tbody>{(alerts.data || []).map((alert) => (
          <tr key={alert.key} data-key={alert.key}>
            <td><span class={`badge ${alert.severity}`}>{alert.severity}</span></td>
            <td>{alert.rule}</td><td>{alert.message}</td><td>{dateTime(alert.raised_at)}</td><td>{t(alert.status)}</td>
            <td class="actions">
              {alert.status === 'open' && <button class="small" onClick={() => act(alert.key, 'acknowledge')}>{t('acknowledge')}</button>}
              {alert.status !== 'resolved' && <button class="small" onClick={() => act(alert.key, 'resolve')}>{t('resolve')}</button>}
            </td>
          </tr>
        ))}</tbody>
      </table>
      {alerts.data?.length === 0 && <p class="muted">{t('none')}</p>}
    </div>
  );
}
