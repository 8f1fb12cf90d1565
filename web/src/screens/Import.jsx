// CSV import: pick a file, check the column mapping, see every bad row, then import with a
// progress bar. Importing the same file again changes nothing.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { number, t } from '../i18n.js';
import { Message, Section, Select } from '../components/Form.jsx';

function BadRows({ rows }) {
  if (!rows?.length) return null;
  return (
    <Section title={`${t('badRows')} (${rows.length})`} testId="bad-rows">
      <table>
        <thead><tr><th>{t('line')}</th><th>{t('reason')}</th></tr></thead>
        <tbody>{rows.map((row) => <tr key={`${row.line}-${row.reason}`}><td>{row.line}</td><td>{row.reason}</td></tr>)}</tbody>
      </table>
    </Section>
  );
}

export function Import() {
  const [kind, setKind] = useState('accounts');
  const [csv, setCsv] = useState('');
  const [mapping, setMapping] = useState(null);
  const [check, setCheck] = useState(null);
  const [job, setJob] = useState(null);
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState(null);

  const dryRun = async (text = csv, map = mapping) => {
    setError(null);
    try {
      const answer = await api(`/imports/${kind}`, { method: 'POST', body: { csv: text, mapping: map, dry_run: true } });
      setCheck(answer);
      setMapping(answer.mapping);
    } catch (failure) {
      setError(failure);
      setCheck(null);
    }
  };
  const choose = async (event) => {
    const file = event.currentTarget.files?.[0];
    if (!file) return;
    const text = await file.text();
    setCsv(text);
    setMapping(null);
    setProgress(null);
    setJob(null);
    await dryRun(text, null);
  };
  const run = async () => {
    setError(null);
    try {
      const started = await api(`/imports/${kind}`, { method: 'POST', body: { csv, mapping } });
      setProgress({ done: 0, total: started.total, finished: false });
      setJob(started.job);
    } catch (failure) {
      setError(failure);
    }
  };
  useEffect(() => {
    if (!job) return undefined;
    const timer = setInterval(async () => {
      try {
        const now = await api(`/imports/jobs/${job}`);
        setProgress(now);
        if (now.finished) {
          clearInterval(timer);
          setJob(null);
        }
      } catch (failure) {
        clearInterval(timer);
        setError(failure);
      }
    }, 250);
    return () => clearInterval(timer);
  }, [job]);

  const fields = check?.fields || [];
  return (
    <div data-testid="import">
      <h1>{t('importTitle')}</h1>
      <div class="inline-form">
        <Select label={t('importKind')} value={kind} options={[['accounts', t('accounts')], ['leads', t('leads')]]}
          onChange={(v) => { setKind(v); setCheck(null); setMapping(null); }} />
        <label class="field"><span>{t('chooseFile')}</span><input type="file" accept=".csv,text/csv" name="file" onChange={choose} /></label>
      </div>
      <Message error={error} />
      {check && (
        <Section title={t('mapping')} testId="mapping">
          <table>
            <thead><tr><th>{t('field')}</th><th>{t('column')}</th></tr></thead>
            <tbody>{fields.map((field) => (
              <tr key={field}><td>{field}</td><td>
                <select aria-label={field} value={mapping?.[field] || ''} onChange={(e) => setMapping({ ...mapping, [field]: e.currentTarget.value })}>
                  <option value="">{t('notMapped')}</option>
                  {check.headers.map((header) => <option key={header} value={header}>{header}</option>)}
                </select>
              </td></tr>
            ))}</tbody>
          </table>
          <p data-testid="dry-run-summary">
            {t('rows')}: {number(check.rows)} · {t('records')}: {number(check.records)} · {t('toCreate')}: <b data-testid="to-create">{number(check.create)}</b>
            {' '}· {t('toUpdate')}: <b data-testid="to-update">{number(check.update)}</b> · {t('unchanged')}: <b data-testid="unchanged">{number(check.unchanged)}</b>
            {' '}· {t('badRows')}: <b data-testid="bad-count">{number(check.bad_rows.length)}</b>
          </p>
          <div class="actions">
            <button class="secondary" onClick={() => dryRun()}>{t('dryRun')}</button>
            <button data-testid="run-import" disabled={!!job || check.records === 0} onClick={run}>{t('runImport')}</button>
          </div>
        </Section>
      )}
      {progress && (
        <Section title={t('import')} testId="import-progress">
          <progress max={Math.max(progress.total, 1)} value={progress.done} />
          <p data-testid="import-status" data-finished={String(!!progress.finished)}>
            {progress.finished
              ? t('importDone', { created: progress.created, updated: progress.updated, unchanged: progress.unchanged, failed: progress.failed.length })
              : t('importing', { done: progress.done, total: progress.total })}
          </p>
        </Section>
      )}
      <BadRows rows={progress?.finished ? progress.failed : check?.bad_rows} />
    </div>
  );
}
