// Small form pieces shared by the screens.
import { t } from '../i18n.js';

export function Field({ label, value, onInput, type = 'text', name, readOnly = false, children }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children || (
        <input type={type} name={name} value={value ?? ''} readOnly={readOnly}
          onInput={(e) => onInput?.(e.currentTarget.value)} />
      )}
    </label>
  );
}

export function Select({ label, value, options, onChange, name }) {
  return (
    <Field label={label}>
      <select name={name} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {options.map((option) => {
          const [key, text] = Array.isArray(option) ? option : [option, option];
          return <option key={key} value={key}>{text}</option>;
        })}
      </select>
    </Field>
  );
}

export function Message({ error, note }) {
  if (error) return <p class="error" role="alert">{error.status === 404 ? t('notFound') : t('error', { message: error.message })}</p>;
  if (note) return <p class="note" role="status">{note}</p>;
  return null;
}

export function Section({ title, children, actions, testId }) {
  return (
    <section class="card" data-testid={testId}>
      <header><h2>{title}</h2>{actions}</header>
      {children}
    </section>
  );
}
