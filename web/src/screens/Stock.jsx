// Stock per location, and the transfers between locations that are on their way.
import { date, number, t, valueName } from '../i18n.js';
import { DataTable } from '../components/DataTable.jsx';
import { Section } from '../components/Form.jsx';

export function TransfersInFlight({ filters = {} }) {
  return (
    <Section title={t('transfersInFlight')} testId="transfers-in-flight">
      <DataTable list="transfers" searchable={false} filters={{ status: 'shipped', ...filters }} columns={[
        { key: 'from', label: t('from'), render: (row) => row.from_title || row.from },
        { key: 'to', label: t('to'), render: (row) => row.to_title || row.to },
        { key: 'lines', label: t('lines'), render: (row) => number(row.lines) },
        { key: 'shipped_at', label: t('shipped'), render: (row) => date(row.shipped_at) },
      ]} />
    </Section>
  );
}

export function Stock() {
  return (
    <div>
      <h1>{t('stock')}</h1>
      <DataTable list="stock" href={(row) => `/stock/${row.id}`} columns={[
        { key: 'name', label: t('location') },
        { key: 'location_kind', label: t('kind'), render: (row) => valueName(row.location_kind) },
        { key: 'custodian', label: t('custodian') },
        { key: 'items', label: t('items'), render: (row) => number(row.items) },
        { key: 'units', label: t('units'), render: (row) => number(row.units) },
      ]} />
      <TransfersInFlight />
    </div>
  );
}
