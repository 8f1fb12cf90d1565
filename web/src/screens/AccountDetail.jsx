// One account: its fields (editable), contacts, opportunities and their pipeline moves,
// activities and tasks, and the fields two people changed at once.
import { useState } from 'preact/hooks';
import { api, logKey, newKey, useApi } from '../api.js';
import { date, dateTime, minorDigits, money, stageName, t, valueName } from '../i18n.js';
import { Field, Message, Section, Select } from '../components/Form.jsx';

const STAGES = ['prospecting', 'qualification', 'proposal', 'negotiation', 'won', 'lost'];
const ACCOUNT_KINDS = ['customer', 'supplier', 'partner'];
const ACTIVITY_KINDS = ['call', 'email', 'meeting', 'note'];
const members = (set) => Object.keys(set || {}).join(', ');
const live = (entries) => Object.entries(entries || {}).filter(([, value]) => !value.archived_at);

/** The value at `/a/b` of a nested object. */
const at = (object, path) => path.split('.').reduce((o, key) => o?.[key], object);

/** `{"address.city": "Pécs"}` → `{address: {city: "Pécs"}}`. */
function nested(flat) {
  const out = {};
  for (const [path, value] of Object.entries(flat)) {
    const keys = path.split('.');
    let target = out;
    keys.slice(0, -1).forEach((key) => { target = target[key] ??= {}; });
    target[keys[keys.length - 1]] = value;
  }
  return out;
}

function AccountForm({ id, record, session, onSaved }) {
  const [draft, setDraft] = useState({});
  const [state, setState] = useState({});
  const value = (path) => (path in draft ? draft[path] : at(record, path) ?? '');
  const edit = (path) => (next) => setDraft({ ...draft, [path]: next });
  const save = async (event) => {
    event.preventDefault();
    try {
      await api(`/documents/${id}`, { method: 'PATCH', body: nested(draft) });
      setDraft({});
      setState({ note: t('saved') });
      onSaved();
    } catch (error) {
      setState({ error });
    }
  };
  const office = session.role === 'office' || session.role === 'admin';
  return (
    <form class="form-grid" onSubmit={save} data-testid="account-form">
      <Field label={t('name')} name="name" value={value('name')} onInput={edit('name')} />
      <Select label={t('kind')} name="account_kind" value={value('account_kind')} onChange={edit('account_kind')} options={ACCOUNT_KINDS.map((k) => [k, valueName(k)])} />
      <Field label={t('territory')} name="territory" value={value('territory')} onInput={edit('territory')} />
      <Field label={t('owner')} name="owner" value={value('owner')} onInput={edit('owner')} readOnly={!office} />
      <Field label={t('vatNumber')} name="vat_number" value={value('vat_number')} onInput={edit('vat_number')} />
      <Field label={t('street')} name="address.line1" value={value('address.line1')} onInput={edit('address.line1')} />
      <Field label={t('city')} name="address.city" value={value('address.city')} onInput={edit('address.city')} />
      <Field label={t('postcode')} name="address.postcode" value={value('address.postcode')} onInput={edit('address.postcode')} />
      <Field label={t('country')} name="address.country" value={value('address.country')} onInput={edit('address.country')} />
      <div class="actions">
        <button type="submit" disabled={Object.keys(draft).length === 0}>{t('save')}</button>
        <Message {...state} />
      </div>
    </form>
  );
}

function Contacts({ id, record, onSaved }) {
  const [form, setForm] = useState({ first_name: '', last_name: '', title: '', email: '', phone: '' });
  const add = async (event) => {
    event.preventDefault();
    // A new contact is written whole: every field of the record, at its default if not given.
    const contact = {
      first_name: form.first_name, last_name: form.last_name, title: form.title, language: '',
      emails: form.email ? { [form.email.trim().toLowerCase()]: true } : {},
      phones: form.phone ? { [form.phone.replace(/[^\d+]/g, '')]: true } : {},
      consent: {}, preferences: {}, archived_at: null, merged_into: null,
    };
    await api(`/documents/${id}`, { method: 'PATCH', body: { contacts: { [newKey('c')]: contact } } });
    setForm({ first_name: '', last_name: '', title: '', email: '', phone: '' });
    onSaved();
  };
  const field = (key) => (value) => setForm({ ...form, [key]: value });
  return (
    <Section title={t('contacts')} testId="contacts">
      <table>
        <thead><tr><th>{t('name')}</th><th>{t('title')}</th><th>{t('email')}</th><th>{t('phone')}</th><th>{t('language')}</th></tr></thead>
        <tbody>{live(record.contacts).map(([key, c]) => (
          <tr key={key}><td>{c.first_name} {c.last_name}</td><td>{c.title}</td><td>{members(c.emails)}</td><td>{members(c.phones)}</td><td>{c.language}</td></tr>
        ))}</tbody>
      </table>
      <form class="inline-form" onSubmit={add}>
        <Field label={t('firstName')} value={form.first_name} onInput={field('first_name')} />
        <Field label={t('lastName')} value={form.last_name} onInput={field('last_name')} />
        <Field label={t('title')} value={form.title} onInput={field('title')} />
        <Field label={t('email')} value={form.email} onInput={field('email')} type="email" />
        <Field label={t('phone')} value={form.phone} onInput={field('phone')} />
        <button type="submit">{t('addContact')}</button>
      </form>
    </Section>
  );
}

function Opportunities({ id, record, session, onSaved }) {
  const [form, setForm] = useState({ name: '', amount: '', currency: 'EUR' });
  const move = async (key, opportunity, stage) => {
    const change = { from: opportunity.stage, to: stage, actor: session.user, at: Date.now() };
    await api(`/documents/${id}`, {
      method: 'PATCH',
      body: { opportunities: { [key]: { stage, stage_history: { [logKey()]: change } } } },
    });
    onSaved();
  };
  const add = async (event) => {
    event.preventDefault();
    const amount = Math.round(Number(form.amount.replace(',', '.')) * 10 ** minorDigits(form.currency)) || 0;
    await api(`/documents/${id}`, {
      method: 'PATCH',
      body: {
        opportunities: {
          [newKey('o')]: {
            name: form.name, stage: 'prospecting', amount_minor: amount, currency: form.currency,
            expected_close: null, probability: 10, lost_reason: null, owner: record.owner,
            stage_history: {}, tours: {}, booking: null, archived_at: null,
          },
        },
      },
    });
    setForm({ name: '', amount: '', currency: form.currency });
    onSaved();
  };
  return (
    <Section title={t('opportunities')} testId="opportunities">
      <table>
        <thead><tr><th>{t('name')}</th><th>{t('stage')}</th><th>{t('amount')}</th><th>{t('probability')}</th><th>{t('owner')}</th></tr></thead>
        <tbody>{live(record.opportunities).map(([key, o]) => (
          <tr key={key}>
            <td>{o.name}</td>
            <td><select aria-label={t('stage')} value={o.stage} onChange={(e) => move(key, o, e.currentTarget.value)}>
              {STAGES.map((stage) => <option key={stage} value={stage}>{stageName(stage)}</option>)}
            </select></td>
            <td>{money(o.amount_minor, o.currency)}</td><td>{o.probability}%</td><td>{o.owner}</td>
          </tr>
        ))}</tbody>
      </table>
      <form class="inline-form" onSubmit={add}>
        <Field label={t('name')} value={form.name} onInput={(v) => setForm({ ...form, name: v })} />
        <Field label={t('amount')} value={form.amount} onInput={(v) => setForm({ ...form, amount: v })} />
        <Select label="" value={form.currency} onChange={(v) => setForm({ ...form, currency: v })} options={['EUR', 'HUF']} />
        <button type="submit" disabled={!form.name}>{t('add')}</button>
      </form>
    </Section>
  );
}

function Activities({ id, record, session, onSaved }) {
  const [form, setForm] = useState({ activity_kind: 'call', subject: '', body: '', due: '' });
  const entries = Object.entries(record.activities || {}).sort(([a], [b]) => b.localeCompare(a));
  const tasks = entries.filter(([, a]) => a.activity_kind === 'task');
  const log = async (kind) => {
    const activity = {
      activity_kind: kind, subject: form.subject, body: form.body, actor: session.user,
      at: Date.now(), related: null, due: kind === 'task' && form.due ? Date.parse(form.due) : null, done: false,
    };
    await api(`/documents/${id}`, { method: 'PATCH', body: { activities: { [logKey()]: activity } } });
    setForm({ ...form, subject: '', body: '', due: '' });
    onSaved();
  };
  const complete = async (key) => {
    await api(`/documents/${id}`, { method: 'PATCH', body: { activities: { [key]: { done: true } } } });
    onSaved();
  };
  return (
    <div class="grid">
      <Section title={t('activities')} testId="activities">
        <ul class="plain">{entries.filter(([, a]) => a.activity_kind !== 'task').map(([key, a]) => (
          <li key={key}><b>{a.activity_kind}</b> {a.subject} <span class="muted">— {a.actor}, {dateTime(a.at)}</span>{a.body && <div>{a.body}</div>}</li>
        ))}</ul>
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); log(form.activity_kind); }}>
          <Select label="" value={form.activity_kind} onChange={(v) => setForm({ ...form, activity_kind: v })} options={ACTIVITY_KINDS} />
          <Field label={t('subject')} value={form.subject} onInput={(v) => setForm({ ...form, subject: v })} />
          <Field label={t('body')} value={form.body} onInput={(v) => setForm({ ...form, body: v })} />
          <button type="submit" disabled={!form.subject}>{t('logActivity')}</button>
        </form>
      </Section>
      <Section title={t('tasks')} testId="tasks">
        <ul class="plain">{tasks.map(([key, task]) => (
          <li key={key}>
            <label><input type="checkbox" checked={task.done} disabled={task.done} onChange={() => complete(key)} /> {task.subject}</label>
            {task.due && <span class="muted"> — {t('due')} {date(task.due)}</span>}
          </li>
        ))}</ul>
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); log('task'); }}>
          <Field label={t('subject')} value={form.subject} onInput={(v) => setForm({ ...form, subject: v })} />
          <Field label={t('due')} type="date" value={form.due} onInput={(v) => setForm({ ...form, due: v })} />
          <button type="submit" disabled={!form.subject}>{t('addTask')}</button>
        </form>
      </Section>
    </div>
  );
}

function Conflicts({ conflicts }) {
  if (!conflicts?.length) return null;
  const show = (value) => (value === null ? '—' : JSON.stringify(value));
  return (
    <Section title={t('conflicts')} testId="conflicts">
      <ul class="plain">{conflicts.map((conflict) => {
        const winner = conflict.values.find((v) => v.winner);
        const others = conflict.values.filter((v) => !v.winner).map((v) => show(v.value)).join(', ');
        return <li key={conflict.path} class="warning">{t('conflictNote', { field: conflict.path, winner: show(winner?.value), others })}</li>;
      })}</ul>
    </Section>
  );
}

export function AccountDetail({ id, session }) {
  const doc = useApi(`/documents/${id}`, { ids: [id] });
  const conflicts = useApi(`/documents/${id}/conflicts`, { ids: [id] });
  if (doc.error) return <Message error={doc.error} />;
  if (!doc.data) return <p class="muted">{t('loading')}</p>;
  const record = doc.data.record;
  const reload = () => { doc.reload(); conflicts.reload(); };
  return (
    <div class="account" data-testid="account-detail">
      <h1 data-testid="account-title">{record.name}</h1>
      <p class="muted">{record.owner} · {record.territory} · {record.address?.city}</p>
      <Conflicts conflicts={conflicts.data?.conflicts} />
      <Section title={t('details')}>
        <AccountForm id={id} record={record} session={session} onSaved={reload} />
      </Section>
      <Contacts id={id} record={record} onSaved={reload} />
      <Opportunities id={id} record={record} session={session} onSaved={reload} />
      <Activities id={id} record={record} session={session} onSaved={reload} />
    </div>
  );
}
