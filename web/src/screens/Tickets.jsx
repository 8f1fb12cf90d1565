// Customer support tickets and their messages.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, logKey } from '../api.js';
import { dateTime, number, t, valueName } from '../i18n.js';
import { DataTable } from '../components/DataTable.jsx';
import { RecordPanel } from '../components/RecordPanel.jsx';
import { Field, Select } from '../components/Form.jsx';

const STATUSES = ['open', 'pending', 'resolved', 'closed'];
const PRIORITIES = ['low', 'normal', 'high', 'urgent'];

function Messages({ id, ticket, session, reload }) {
  const [body, setBody] = useState('');
  const add = async (event) => {
    event.preventDefault();
    const message = { author: session.user, body, internal: false, at: Date.now() };
    await api(`/documents/${id}`, { method: 'PATCH', body: { messages: { [logKey()]: message } } });
    setBody('');
    reload();
  };
  const messages = Object.entries(ticket.messages || {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <div>
      <h3>{t('messages')}</h3>
      <ul class="plain">{messages.map(([key, m]) => (
        <li key={key}><b>{m.author}</b> <span class="muted">{dateTime(m.at)}</span><div>{m.body}</div></li>
      ))}</ul>
      <form class="inline-form" onSubmit={add}>
        <Field label={t('message')} value={body} onInput={setBody} />
        <button type="submit" disabled={!body}>{t('addMessage')}</button>
      </form>
    </div>
  );
}

export function Tickets({ session }) {
  const { query, route } = useLocation();
  const status = query.status || '';
  return (
    <div>
      <h1>{t('tickets')}</h1>
      <div class="split">
        <div>
          <Select label={t('status')} value={status} options={[['', t('all')], ...STATUSES]}
            onChange={(v) => route(v ? `/tickets?status=${v}` : '/tickets')} />
          <DataTable list="tickets" filters={status ? { status } : {}} href={(row) => `/tickets?open=${row.id}`} columns={[
            { key: 'subject', label: t('subject') },
            { key: 'status', label: t('status'), render: (row) => valueName(row.status) },
            { key: 'priority', label: t('priority'), render: (row) => valueName(row.priority) },
            { key: 'assignee', label: t('assignee') },
            { key: 'account', label: t('account'), render: (row) => row.account_title ? <a href={`/accounts/${row.account}`}>{row.account_title}</a> : '' },
            { key: 'messages', label: t('messages'), render: (row) => number(row.messages) },
          ]} />
        </div>
        {query.open && (
          <RecordPanel key={query.open} id={query.open} testId="ticket-panel" title={(ticket) => ticket.subject} fields={[
            { key: 'subject', label: t('subject') },
            { key: 'status', label: t('status'), options: STATUSES },
            { key: 'priority', label: t('priority'), options: PRIORITIES },
            { key: 'assignee', label: t('assignee') },
          ]}>
            {(ticket, reload) => <Messages id={query.open} ticket={ticket} session={session} reload={reload} />}
          </RecordPanel>
        )}
      </div>
    </div>
  );
}
