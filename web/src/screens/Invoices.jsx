// Invoices: drafts, those waiting for a legal number, receivables by age, the trial balance,
// and the list of every invoice.
import { useState } from 'preact/hooks';
import { queryString, useApi } from '../api.js';
import { amounts, date, money, number, t, valueName } from '../i18n.js';
import { BarChart } from '../components/BarChart.jsx';
import { DataTable } from '../components/DataTable.jsx';
import { Message, Section } from '../components/Form.jsx';

const csv = (report, table) => (
  <a class="button secondary small" href={`/api/v1/reports/${report}/csv?table=${table}`} download>{t('exportCsv')}</a>
);

const invoiceColumns = () => [
  { key: 'number', label: t('number') },
  { key: 'status', label: t('status'), render: (row) => valueName(row.status) },
  { key: 'customer', label: t('customer'), render: (row) => row.customer_title || '' },
  { key: 'issued_on', label: t('issued'), render: (row) => date(row.issued_on) },
  { key: 'due_on', label: t('dueOn'), render: (row) => date(row.due_on) },
  { key: 'gross_minor', label: t('gross'), render: (row) => money(row.gross_minor, row.currency) },
];

// The report's totals and ageing cover every receivable; its receivables come a page at a time.
const RECEIVABLES_PER_PAGE = 50;

function Reports() {
  const [cursors, setCursors] = useState(['']);
  const after = cursors[cursors.length - 1];
  const report = useApi(`/reports/invoices?${queryString({ limit: RECEIVABLES_PER_PAGE, after })}`, { kinds: ['invoice'] });
  const ledger = useApi('/reports/trial-balance', { kinds: ['journal'] });
  const posted = useApi('/lists/invoices?status=posted&limit=500', { kinds: ['invoice'] });
  if (report.error || ledger.error) return <Message error={report.error || ledger.error} />;
  if (!report.data || !ledger.data) return <p class="muted">{t('loading')}</p>;
  const { receivables, ageing, receivables_total: receivablesTotal, next_cursor: nextCursor } = report.data;
  const customerOf = Object.fromEntries((posted.data?.items || []).map((row) => [row.id, row.customer_title]));
  const currency = Object.keys(Object.assign({}, ...ageing.map((b) => b.outstanding)))[0] || 'EUR';
  const tb = ledger.data;
  return (
    <div class="grid">
      <Section title={t('drafts')} actions={csv('invoices', 'drafts')} testId="drafts">
        <DataTable list="invoices" testId="list-drafts" searchable={false} pageSize={10} filters={{ status: 'draft' }} columns={invoiceColumns()} />
      </Section>
      <Section title={t('awaitingNumber')} actions={csv('invoices', 'awaiting_legal_number')} testId="awaiting-number">
        <DataTable list="invoices" testId="list-awaiting" searchable={false} pageSize={10} filters={{ status: 'posted', legal_number: '' }} columns={invoiceColumns()} />
      </Section>
      <Section title={t('ageing')} actions={csv('invoices', 'ageing')} testId="ageing">
        <BarChart labels={ageing.map((b) => b.band)} values={ageing.map((b) => b.outstanding[currency] || 0)} format={(v) => money(v, currency)} color="#8f2f3f" />
        <table>
          <thead><tr><th>{t('band')}</th><th>#</th><th>{t('outstanding')}</th></tr></thead>
          <tbody>{ageing.map((b) => <tr key={b.band}><td>{b.band}</td><td>{b.invoices}</td><td>{amounts(b.outstanding)}</td></tr>)}</tbody>
        </table>
      </Section>
      <Section title={t('receivables')} actions={csv('invoices', 'receivables')} testId="receivables">
        <table>
          <thead><tr><th>{t('number')}</th><th>{t('customer')}</th><th>{t('dueOn')}</th><th>{t('outstanding')}</th><th>{t('daysPastDue')}</th></tr></thead>
          <tbody>{receivables.map((r) => (
            <tr key={r.invoice}><td>{r.legal_number}</td><td>{customerOf[r.invoice] || ''}</td><td>{date(r.due_on)}</td><td>{money(r.outstanding_minor, r.currency)}</td><td>{r.days_past_due ?? ''}</td></tr>
          ))}</tbody>
        </table>
        {receivables.length === 0 && <p class="muted">{t('none')}</p>}
        <div class="pager">
          <span class="muted" data-testid="receivables-total">{t('total', { n: number(receivablesTotal ?? receivables.length) })}</span>
          <button disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>{t('previous')}</button>
          <button disabled={!nextCursor} onClick={() => setCursors([...cursors, nextCursor])}>{t('next')}</button>
        </div>
      </Section>
      <Section title={t('trialBalance')} actions={csv('trial-balance', 'accounts')} testId="trial-balance">
        <table>
          <thead><tr><th>{t('ledgerAccount')}</th><th>{t('debit')}</th><th>{t('credit')}</th><th>{t('balance')}</th></tr></thead>
          <tbody>{tb.accounts.map((a) => (
            <tr key={a.account}><td>{a.account}</td><td>{number(a.debit_minor / 100)}</td><td>{number(a.credit_minor / 100)}</td><td>{number(a.balance_minor / 100)}</td></tr>
          ))}</tbody>
          <tfoot><tr><th>{tb.balanced ? t('balanced') : t('notBalanced')}</th><th>{number(tb.total_debit_minor / 100)}</th><th>{number(tb.total_credit_minor / 100)}</th><th /></tr></tfoot>
        </table>
      </Section>
    </div>
  );
}

export function Invoices({ session }) {
  return (
    <div>
      <h1>{t('invoices')}</h1>
      {session.role !== 'sales' && <Reports />}
      <Section title={t('allInvoices')}>
        <DataTable list="invoices" columns={invoiceColumns()} />
      </Section>
    </div>
  );
}
