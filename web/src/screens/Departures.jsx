import { useApi } from '../api.js';
import { date, number, t, valueName } from '../i18n.js';
import { DataTable } from '../components/DataTable.jsx';

/** The catalog, for those who may read it (guides may not: it holds prices). */
export function useCatalog() {
  const found = useApi('/lists/catalogs?limit=1', { kinds: ['catalog'] });
  const id = found.data?.items?.[0]?.id;
  const catalog = useApi(id ? `/documents/${id}` : null, { ids: id ? [id] : [] });
  return catalog.data?.record || { tours: {}, items: {} };
}

/** Tour names from the catalog; guides see the tours' keys. */
export function useTourNames() {
  const tours = useCatalog().tours || {};
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
        { key: 'status', label: t('status'), render: (row) => valueName(row.status) },
        { key: 'capacity', label: t('capacity'), render: (row) => number(row.capacity) },
        { key: 'seats_confirmed', label: t('confirmed'), render: (row) => number(row.seats_confirmed) },
        { key: 'seats_waitlisted', label: t('waitlisted'), render: (row) => number(row.seats_waitlisted) },
        { key: 'guides', label: t('guides'), render: (row) => number(row.guides) },
      ]} />
    </div>
  );
}
