import { useLocation } from 'preact-iso';
import { api, bareId } from '../api.js';
import { number, t } from '../i18n.js';
import { DataTable } from '../components/DataTable.jsx';

export function Accounts({ session }) {
  const { route } = useLocation();
  const create = async () => {
    const name = prompt(t('name'));
    if (!name) return;
    const fields = { name };
    if (session.role === 'sales') fields.owner = session.user;
    const created = await api('/records/account', { method: 'POST', body: fields });
    route(`/accounts/${bareId(created.id)}`);
  };
  return (
    <div>
      <div class="title-row">
        <h1>{t('accounts')}</h1>
        <button onClick={create}>{t('newAccount')}</button>
        <a class="button secondary" href="/import">{t('import')}</a>
      </div>
      <DataTable list="accounts" href={(row) => `/accounts/${row.id}`} columns={[
        { key: 'name', label: t('name') },
        { key: 'owner', label: t('owner') },
        { key: 'territory', label: t('territory') },
        { key: 'city', label: t('city') },
        { key: 'contacts', label: t('contacts'), render: (row) => number(row.contacts) },
        { key: 'open_opportunities', label: t('openOpportunities'), render: (row) => number(row.open_opportunities) },
      ]} />
    </div>
  );
}
