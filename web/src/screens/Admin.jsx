// Users, their roles and grants, and their tokens (admins only).
import { useState } from 'preact/hooks';
import { api, useApi } from '../api.js';
import { date, t } from '../i18n.js';
import { Field, Message, Section, Select } from '../components/Form.jsx';

const ROLES = ['admin', 'office', 'sales', 'guide'];
const grantList = (text) => text.split(/[\s,]+/).filter(Boolean);

function UserRow({ user, onChanged, setState }) {
  const [grants, setGrants] = useState(user.grants.join(', '));
  const run = async (work) => {
    try {
      setState({ note: await work() });
      onChanged();
    } catch (error) {
      setState({ error });
    }
  };
  const name = encodeURIComponent(user.name);
  return (
    <tr data-user={user.name}>
      <td>{user.name}</td><td>{user.role}</td><td>{user.disabled ? t('disabled') : t('active')}</td><td>{date(user.created_at)}</td>
      <td><input aria-label={t('grants')} value={grants} onInput={(e) => setGrants(e.currentTarget.value)} /></td>
      <td class="actions">
        <button class="small" onClick={() => run(async () => { await api(`/users/${name}/grants`, { method: 'PUT', body: { grants: grantList(grants) } }); return t('saved'); })}>{t('setGrants')}</button>
        <button class="small" onClick={() => run(async () => t('tokenIssued', { token: (await api(`/users/${name}/tokens`, { method: 'POST', body: { ttl_seconds: 90 * 86400 } })).token }))}>{t('issueToken')}</button>
        <button class="small secondary" onClick={() => run(async () => t('revoked', { n: (await api('/tokens/revoke', { method: 'POST', body: { user: user.name } })).revoked }))}>{t('revokeTokens')}</button>
        {!user.disabled && <button class="small secondary" onClick={() => run(async () => { await api(`/users/${name}/disable`, { method: 'POST' }); return t('saved'); })}>{t('disable')}</button>}
      </td>
    </tr>
  );
}

export function Admin() {
  const users = useApi('/users');
  const [state, setState] = useState({});
  const [form, setForm] = useState({ name: '', role: 'sales', grants: '', password: '' });
  const add = async (event) => {
    event.preventDefault();
    try {
      await api('/users', { method: 'POST', body: { name: form.name, role: form.role, grants: grantList(form.grants), password: form.password || null } });
      setForm({ name: '', role: form.role, grants: '', password: '' });
      setState({ note: t('saved') });
      users.reload();
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <div data-testid="admin">
      <h1>{t('admin')}</h1>
      <Message {...state} />
      <Section title={t('users')}>
        <table>
          <thead><tr><th>{t('user')}</th><th>{t('role')}</th><th>{t('status')}</th><th>{t('issued')}</th><th>{t('grants')}</th><th /></tr></thead>
          <tbody>{(users.data || []).map((user) => <UserRow key={user.name} user={user} onChanged={users.reload} setState={setState} />)}</tbody>
        </table>
      </Section>
      <Section title={t('addUser')}>
        <form class="inline-form" onSubmit={add}>
          <Field label={t('user')} value={form.name} onInput={(v) => setForm({ ...form, name: v })} />
          <Select label={t('role')} value={form.role} options={ROLES} onChange={(v) => setForm({ ...form, role: v })} />
          <Field label={`${t('grants')} (${t('grantsHint')})`} value={form.grants} onInput={(v) => setForm({ ...form, grants: v })} />
          <Field label={t('password')} type="password" value={form.password} onInput={(v) => setForm({ ...form, password: v })} />
          <button type="submit" disabled={!form.name}>{t('addUser')}</button>
        </form>
      </Section>
    </div>
  );
}
