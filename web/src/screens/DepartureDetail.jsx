// One departure: the seat plan, the waitlist, the passenger manifest, the guides assigned and
// what they answered. Nothing here is a price: guides see this page too.
import { queryString, useApi } from '../api.js';
import { date, dateTime, number, t, valueName } from '../i18n.js';
import { Message, Section } from '../components/Form.jsx';
import { useTourNames } from './Departures.jsx';

function SeatPlan({ departure }) {
  const seats = [];
  for (let i = 0; i < departure.capacity; i += 1) {
    let state = 'free';
    if (i < departure.seats_confirmed) state = 'confirmed';
    else if (i < departure.seats_confirmed + departure.seats_provisional) state = 'provisional';
    seats.push(<span key={i} class={`seat ${state}`} title={`${i + 1}: ${t(state)}`} />);
  }
  return (
    <Section title={t('seatPlan')} testId="seat-plan">
      <div class="seats">{seats}</div>
      <p class="legend">
        <span class="seat confirmed" /> {t('confirmed')} {departure.seats_confirmed} · <span class="seat provisional" /> {t('provisional')} {departure.seats_provisional}
        {' '}· <span class="seat free" /> {t('free')} {Math.max(0, departure.capacity - departure.seats_confirmed - departure.seats_provisional)}
        {' '}· {t('waitlisted')} {departure.seats_waitlisted}
      </p>
      {Object.keys(departure.allotments || {}).length > 0 && (
        <p>{t('allotments')}: {Object.entries(departure.allotments).map(([rep, seats]) => `${rep} ${seats}`).join(', ')}</p>
      )}
    </Section>
  );
}

function Waitlist({ id }) {
  const waiting = useApi(`/lists/bookings?${queryString({ departure: id, status: 'waitlisted', sort: 'submitted_at' })}`, { kinds: ['booking'] });
  const items = waiting.data?.items || [];
  return (
    <Section title={t('waitlist')} testId="waitlist">
      <table>
        <thead><tr><th>{t('account')}</th><th>{t('rep')}</th><th>{t('seats')}</th><th>{t('when')}</th></tr></thead>
        <tbody>{items.map((b) => <tr key={b.id}><td>{b.account_title || ''}</td><td>{b.rep}</td><td>{b.seats}</td><td>{dateTime(b.submitted_at)}</td></tr>)}</tbody>
      </table>
      {items.length === 0 && <p class="muted">{t('none')}</p>}
    </Section>
  );
}

function Answers({ id }) {
  const logs = useApi(`/lists/fieldlogs?departure=${id}`, { kinds: ['fieldlog'] });
  const logId = logs.data?.items?.[0]?.id;
  const log = useApi(logId ? `/documents/${logId}` : null, { ids: logId ? [logId] : [] });
  const record = log.data?.record;
  const answers = Object.entries(record?.acceptances || {}).sort(([a], [b]) => a.localeCompare(b));
  const incidents = Object.entries(record?.incidents || {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <Section title={t('answers')} testId="answers">
      <ul class="plain">{answers.map(([key, a]) => (
        <li key={key}>{a.employee}: <b>{a.accepted ? t('accepted') : t('declined')}</b> ({a.assignment}) <span class="muted">{dateTime(a.at)}</span></li>
      ))}</ul>
      {answers.length === 0 && <p class="muted">{t('none')}</p>}
      {record && <p>{t('checkIns')}: {number(Object.keys(record.check_ins || {}).length)}</p>}
      {incidents.length > 0 && <h3>{t('incidents')}</h3>}
      <ul class="plain">{incidents.map(([key, i]) => <li key={key}><span class={`badge ${i.severity}`}>{i.severity}</span> {i.summary} — {i.actor}</li>)}</ul>
    </Section>
  );
}

// The passengers are personal data: the server keeps them in a document of their own that head
// office and the guides assigned read (a departure is read by every rep).
function Manifest({ id }) {
  const doc = useApi(`/departures/${id}/manifest`, { kinds: ['manifest'] });
  const manifest = Object.entries(doc.data?.record?.passengers || {});
  return (
    <Section title={t('manifest')} testId="manifest">
      <table>
        <thead><tr><th>{t('passenger')}</th><th>{t('category')}</th><th>{t('dietary')}</th></tr></thead>
        <tbody>{manifest.map(([key, p]) => <tr key={key}><td>{p.name}</td><td>{p.category}</td><td>{p.dietary}</td></tr>)}</tbody>
      </table>
      {manifest.length === 0 && <p class="muted">{t('none')}</p>}
    </Section>
  );
}

export function DepartureDetail({ id, session }) {
  const doc = useApi(`/documents/${id}`, { ids: [id] });
  // Guides may read their own employee record only: they see their own name, and ids for others.
  const employees = useApi('/lists/employees?limit=500', { kinds: ['employee'] });
  const tourName = useTourNames();
  if (doc.error) return <Message error={doc.error} />;
  if (!doc.data) return <p class="muted">{t('loading')}</p>;
  const departure = doc.data.record;
  const employeeName = Object.fromEntries((employees.data?.items || []).map((e) => [e.id, e.name]));
  return (
    <div data-testid="departure-detail">
      <h1>{tourName(departure.tour)} · {date(departure.starts_at)}</h1>
      <p class="muted">{valueName(departure.status)} · {date(departure.starts_at)} – {date(departure.ends_at)} · {departure.time_zone}</p>
      <div class="grid">
        <SeatPlan departure={departure} />
        {session.role !== 'guide' && <Waitlist id={id} />}
        <Manifest id={id} />
        <Section title={t('assignments')} testId="assignments">
          <table>
            <thead><tr><th>{t('guides')}</th><th>{t('role')}</th><th>{t('status')}</th><th>{t('hours')}</th></tr></thead>
            <tbody>{Object.entries(departure.assignments || {}).map(([key, a]) => (
              <tr key={key}><td>{employeeName[a.employee] || a.employee}</td><td>{valueName(a.role)}</td><td>{valueName(a.status)}</td><td>{number(a.hours)}</td></tr>
            ))}</tbody>
          </table>
        </Section>
        <Answers id={id} />
      </div>
    </div>
  );
}
