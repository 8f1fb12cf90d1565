// Leads and the campaigns they come from.
import { useLocation } from 'preact-iso';
import { date, money, number, t, valueName } from '../i18n.js';
import { DataTable } from '../components/DataTable.jsx';
import { RecordPanel } from '../components/RecordPanel.jsx';
import { Select } from '../components/Form.jsx';

const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'disqualified', 'converted'];

export function Leads({ session }) {
  const { query, route } = useLocation();
  const status = query.status || '';
  const tab = query.tab || 'leads';
  return (
    <div>
      <div class="title-row">
        <h1>{t('leads')}</h1>
        <nav class="tabs">
          <a class={tab === 'leads' ? 'active' : ''} href="/leads">{t('leads')}</a>
          <a class={tab === 'campaigns' ? 'active' : ''} href="/leads?tab=campaigns">{t('campaigns')}</a>
        </nav>
        <a class="button secondary" href="/import">{t('import')}</a>
      </div>
      {tab === 'leads' ? (
        <div class="split">
          <div>
            <Select label={t('status')} value={status} options={[['', t('all')], ...LEAD_STATUSES]}
              onChange={(v) => route(v ? `/leads?status=${v}` : '/leads')} />
            <DataTable list="leads" filters={status ? { status } : {}} href={(row) => `/leads?open=${row.id}${status ? `&status=${status}` : ''}`} columns={[
              { key: 'name', label: t('name') },
              { key: 'company', label: t('company') },
              { key: 'email', label: t('email') },
              { key: 'status', label: t('status'), render: (row) => valueName(row.status) },
              { key: 'owner', label: t('owner') },
              { key: 'source', label: t('source') },
            ]} />
          </div>
          {query.open && (
            <RecordPanel key={query.open} id={query.open} testId="lead-panel" title={(lead) => lead.name || lead.company} fields={[
              { key: 'name', label: t('name') }, { key: 'company', label: t('company') },
              { key: 'email', label: t('email') }, { key: 'phone', label: t('phone') },
              { key: 'status', label: t('status'), options: LEAD_STATUSES },
              { key: 'owner', label: t('owner'), readOnly: session.role === 'sales' },
              { key: 'source', label: t('source') },
            ]} />
          )}
        </div>
      ) : (
        <DataTable list="campaigns" columns={[
          { key: 'name', label: t('name') },
          { key: 'channel', label: t('channel') },
          { key: 'status', label: t('status'), render: (row) => valueName(row.status) },
          { key: 'starts_on', label: t('starts'), render: (row) => date(row.starts_on) },
          { key: 'members', label: t('members'), render: (row) => number(row.members) },
          { key: 'responses', label: t('responses'), render: (row) => number(row.responses) },
          { key: 'budget_minor', label: t('budget'), render: (row) => money(row.budget_minor, row.currency) },
        ]} />
      )}
    </div>
  );
}
