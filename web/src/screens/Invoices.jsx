// Invoices: drafts, those waiting for a legal number, receivables by age, the trial balance,
// and the list of every invoice.
import { useApi } from '../api.js';
import { amounts, date, money, number, t } from '../i18n.js';
import { BarChart } from '../components/BarChart.jsx';
import { DataTable } from '../components/DataTable.jsx';
import { Message, Section } from '../components/Form.jsx';

const csv = (report, table) => (
  <a class="button secondary small" href={`/api/v1/reports/${report}/csv?table=${table}`} download>{t('exportCsv')}</a>
);

function InvoiceRows({ rows }) {
  return (
    <table>
      <thead><tr><th>{t('customer')}</th><th>{t('issued')}</th><th>{t('gross')}</th></tr></thead>
      <tbody>{rows.map((row) => (
        <tr key={row.invoice}><td>{row.customer}</td><td>{date(row.issued_on)}</td><td>{money(row.gross_minor, row.currency)}</td></tr>
      ))}</tbody>
    </table>
  );
}

function Reports() {
  const report = useApi('/reports/invoices', { kinds: ['invoice'] });
  const ledger = useApi('/reports/trial-balance', { kinds: ['journal'] });
  if (report.error || ledger.error) return <Message error={report.error || ledger.error} />;
  if (!report.data || !ledger.data) return <p class="muted">{t('loading')}</p>;
  const { drafts, awaiting_legal_number: awaiting, receivables, ageing } = report.data;
  const currency = Object.keys(Object.assign({}, ...ageing.map((b) => b.outstanding)))[0] || 'EUR';
  const tb = ledger.data;
  return (
    <div class="grid">
      <Section title={t('drafts')} actions={csv('invoices', 'drafts')} testId="drafts">
        <InvoiceRows rows={drafts} />{drafts.length === 0 && <p class="muted">{t('none')}</p>}
      </Section>
      <Section title={t('awaitingNumber')} actions={csv('invoices', 'awaiting_legal_number')} testId="awaiting-number">
        <InvoiceRows rows={awaiting} />{awaiting.length === 0 && <p class="muted">{t('none')}</p>}
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
            <tr key={r.invoice}><td>{r.legal_number}</td><td>{r.customer}</td><td>{date(r.due_on)}</td><td>{money(r.outstanding_minor, r.currency)}</td><td>{r.days_past_due ?? ''}</td></tr>
          ))}</tbody>
        </table>
        {receivables.length === 0 && <p class="muted">{t('none')}</p>}
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
        <DataTable list="invoices" columns={[
          { key: 'number', label: t('number') },
          { key: 'status', label: t('status') },
          { key: 'customer', label: t('customer'), render: (row) => row.customer_title || '' },
          { key: 'issued_on', label: t('issued'), render: (row) => date(row.issued_on) },
          { key: 'due_on', label: t('dueOn'), render: (row) => date(row.due_on) },
          { key: 'gross_minor', label: t('gross'), render: (row) => money(row.gross_minor, row.currency) },
        ]} />
      </Section>
    </div>
  );
}
