// A list from the read model: search, column sort, filters, cursor paging, CSV export, and
// live refetch when a document of the list's kind changes.
import { useEffect, useState } from 'preact/hooks';
import { queryString, useApi } from '../api.js';
import { number, t } from '../i18n.js';

const kindOfList = {
  accounts: 'account', leads: 'lead', campaigns: 'campaign', tickets: 'ticket',
  departures: 'departure', bookings: 'booking', invoices: 'invoice', stock: 'stock',
  transfers: 'transfer', employees: 'employee', fieldlogs: 'fieldlog',
};

/**
 * `columns`: `[{key, label, render(row)}]`; `filters`: fixed `column=value` filters;
 * `href(row)`: where a row leads; `testId` names the table for tests.
 */
export function DataTable({ list, columns, filters = {}, href, pageSize = 25, testId, searchable = true, initialSort }) {
  const [search, setSearch] = useState('');
  const [typed, setTyped] = useState('');
  const [sort, setSort] = useState(initialSort || { column: '', order: 'asc' });
  const [cursors, setCursors] = useState(['']);
  const filterKey = JSON.stringify(filters);
  useEffect(() => setCursors(['']), [search, sort.column, sort.order, filterKey]);
  useEffect(() => {
    const timer = setTimeout(() => setSearch(typed), 250);
    return () => clearTimeout(timer);
  }, [typed]);

  const params = { q: search, sort: sort.column, order: sort.column ? sort.order : '' };
  // Filters keep empty values: `legal_number=` selects invoices without one.
  const filterPart = new URLSearchParams(filters).toString();
  const cursor = cursors[cursors.length - 1];
  const join = (...parts) => parts.filter(Boolean).join('&');
  const path = `/lists/${list}?${join(queryString({ ...params, limit: pageSize, cursor }), filterPart)}`;
  const { data, error, loading } = useApi(path, { kinds: [kindOfList[list]] });
  const exportHref = `/api/v1/lists/${list}?${join(queryString({ ...params, format: 'csv' }), filterPart)}`;

  const sortBy = (column) => setSort((current) => ({
    column,
    order: current.column === column && current.order === 'asc' ? 'desc' : 'asc',
  }));
  const arrow = (column) => (sort.column === column ? (sort.order === 'asc' ? ' ▲' : ' ▼') : '');

  return (
    <div class="data-table" data-testid={testId || `list-${list}`}>
      <div class="toolbar">
        {searchable && (
          <input type="search" placeholder={t('search')} value={typed} aria-label={t('search')}
            onInput={(e) => setTyped(e.currentTarget.value)} />
        )}
        <span class="muted" data-testid="list-total">{data ? t('total', { n: number(data.total) }) : ''}</span>
        <a class="button secondary" href={exportHref} download>{t('exportCsv')}</a>
      </div>
      {error && <p class="error">{t('error', { message: error.message })}</p>}
      <table>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.key}>
                {column.sortable === false ? column.label : (
                  <button class="link" onClick={() => sortBy(column.key)}>{column.label}{arrow(column.key)}</button>
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {(data?.items || []).map((row) => (
            <tr key={row.id} data-id={row.id}>
              {columns.map((column, i) => {
                const value = column.render ? column.render(row) : row[column.key];
                return <td key={column.key}>{i === 0 && href ? <a href={href(row)}>{value || '—'}</a> : value}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {!loading && data && data.items.length === 0 && <p class="muted">{t('none')}</p>}
      <div class="pager">
        <button disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>{t('previous')}</button>
        <button disabled={!data?.next_cursor} onClick={() => setCursors([...cursors, data.next_cursor])}>{t('next')}</button>
      </div>
    </div>
  );
}
