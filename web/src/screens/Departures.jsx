import { useApi } from '../api.js';
import { date, number, t } from '../i18n.js';
import { DataTable } from '../components/DataTable.jsx';

/** Tour names from the catalog, for those who may read it (guides may not: they see codes). */
export function useTourNames() {
  const catalog = useApi('/records?kind=catalog', { kinds: ['catalog'] });
  const tours = catalog.data?.[0]?.record?.tours || {};
  return (key) => tours[key]?.name || key;
}

export function Departures() {
  const tourName = useTourNames();
  return (
    <div>
      <h1>{t('departures')}</h1>
      <DataTable list="departures" initialSort={{ column: 'starts_at', order: 'asc' }} href={(row) => `/departures/${row.id}`} columns={[
        { key: 'tour', label: t('tour'), render: (row) => tourName(row.tour) },
        { key: 'starts_at', label: t('starts'), render: (row) => date(row.starts_at) },
        { key: 'status', label: t('status') },
        { key: 'capacity', label: t('capacity'), render: (row) => number(row.capacity) },
        { key: 'seats_confirmed', label: t('confirmed'), render: (row) => number(row.seats_confirmed) },
        { key: 'seats_waitlisted', label: t('waitlisted'), render: (row) => number(row.seats_waitlisted) },
        { key: 'guides', label: t('guides'), render: (row) => number(row.guides) },
      ]} />
    </div>
  );
}
