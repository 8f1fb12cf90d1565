// A record opened beside its list: chosen fields, editable, saved as a JSON merge patch.
import { useState } from 'preact/hooks';
import { api, useApi } from '../api.js';
import { t } from '../i18n.js';
import { Field, Message, Section, Select } from './Form.jsx';

/** `fields`: `[{key, label, options?, readOnly?}]`; `children(record, reload)` adds more. */
export function RecordPanel({ id, title, fields, children, testId }) {
  const doc = useApi(`/documents/${id}`, { ids: [id] });
  const [draft, setDraft] = useState({});
  const [state, setState] = useState({});
  if (doc.error) return <Message error={doc.error} />;
  if (!doc.data) return <p class="muted">{t('loading')}</p>;
  const record = doc.data.record;
  const value = (key) => (key in draft ? draft[key] : record[key] ?? '');
  const save = async (event) => {
    event.preventDefault();
    try {
      await api(`/documents/${id}`, { method: 'PATCH', body: draft });
      setDraft({});
      setState({ note: t('saved') });
      doc.reload();
    } catch (error) {
      setState({ error });
    }
  };
  return (
    <Section title={title(record)} testId={testId}>
      <form class="form-grid" onSubmit={save}>
        {fields.map((field) => (field.options
          ? <Select key={field.key} label={field.label} name={field.key} value={value(field.key)} options={field.options}
              onChange={(v) => setDraft({ ...draft, [field.key]: v })} />
          : <Field key={field.key} label={field.label} name={field.key} value={value(field.key)} readOnly={field.readOnly}
              onInput={(v) => setDraft({ ...draft, [field.key]: v })} />))}
        <div class="actions">
          <button type="submit" disabled={Object.keys(draft).length === 0}>{t('save')}</button>
          <Message {...state} />
        </div>
      </form>
      {children?.(record, doc.reload)}
    </Section>
  );
}
