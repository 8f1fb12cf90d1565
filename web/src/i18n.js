// Words and formats in English and Hungarian. Amounts arrive in minor units of their currency
// (ISO 4217: cents, fillér); HUF is shown in whole forints, as Hungarian invoices and people do.

const en = {
  appName: 'Itinera',
  signIn: 'Sign in', signOut: 'Sign out', user: 'User name', password: 'Password',
  badLogin: 'Wrong user name or password.',
  dashboard: 'Dashboard', accounts: 'Accounts', leads: 'Leads', campaigns: 'Campaigns',
  tickets: 'Tickets', departures: 'Departures', stock: 'Stock', alerts: 'Alerts',
  invoices: 'Invoices', admin: 'Admin', import: 'Import',
  search: 'Search', total: '{n} in all', next: 'Next', previous: 'Previous', exportCsv: 'Export CSV',
  loading: 'Loading…', none: 'Nothing here.', save: 'Save', saved: 'Saved.', add: 'Add', cancel: 'Cancel',
  notFound: 'This record does not exist, or it is not yours to see.',
  error: 'Something went wrong: {message}', live: 'live', offline: 'reconnecting',
  name: 'Name', owner: 'Owner', territory: 'Territory', city: 'City', country: 'Country',
  contacts: 'Contacts', openOpportunities: 'Open opportunities', kind: 'Kind', tags: 'Tags',
  vatNumber: 'VAT number', street: 'Street', postcode: 'Postcode',
  firstName: 'First name', lastName: 'Last name', title: 'Title', email: 'E-mail', phone: 'Phone',
  language: 'Language', addContact: 'Add contact', newAccount: 'New account',
  opportunities: 'Opportunities', stage: 'Stage', amount: 'Amount', probability: 'Probability',
  activities: 'Activities', tasks: 'Tasks', subject: 'Subject', body: 'Notes', due: 'Due', done: 'Done',
  logActivity: 'Log activity', addTask: 'Add task', when: 'When', actor: 'By',
  conflicts: 'Conflicts', conflictNote: 'Two people changed {field} at once. Kept: {winner}; also written: {others}.',
  company: 'Company', status: 'Status', source: 'Source', channel: 'Channel', starts: 'Starts', ends: 'Ends',
  members: 'Members', responses: 'Responses', budget: 'Budget',
  priority: 'Priority', assignee: 'Assignee', account: 'Account', messages: 'Messages', addMessage: 'Add message',
  tour: 'Tour', capacity: 'Capacity', confirmed: 'Confirmed', provisional: 'Provisional', waitlisted: 'Waitlisted',
  free: 'Free', guides: 'Guides', seatPlan: 'Seat plan', waitlist: 'Waitlist', manifest: 'Manifest',
  passenger: 'Passenger', category: 'Category', dietary: 'Dietary', assignments: 'Guide assignments',
  role: 'Role', hours: 'Hours', answers: 'Answers', accepted: 'accepted', declined: 'declined',
  allotments: 'Seat allotments', seats: 'Seats', booking: 'Booking', rep: 'Rep', checkIns: 'Checked in',
  incidents: 'Incidents',
  location: 'Location', custodian: 'Custodian', items: 'Items', units: 'Units', item: 'Item',
  onHand: 'On hand', reorderPoint: 'Reorder point', movements: 'Movements', quantity: 'Quantity',
  reason: 'Reason', transfersInFlight: 'Transfers in flight', from: 'From', to: 'To', lines: 'Lines', shipped: 'Shipped',
  stockExceptions: 'Stock exceptions', projected: 'Projected',
  acknowledge: 'Acknowledge', resolve: 'Resolve', open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved',
  all: 'All', rule: 'Rule', severity: 'Severity', message: 'Message', raised: 'Raised', document: 'Document',
  drafts: 'Drafts', awaitingNumber: 'Awaiting a legal number', receivables: 'Receivables', ageing: 'Ageing',
  trialBalance: 'Trial balance', number: 'Number', customer: 'Customer', issued: 'Issued', dueOn: 'Due',
  gross: 'Gross', outstanding: 'Outstanding', daysPastDue: 'Days past due', band: 'Band',
  ledgerAccount: 'Ledger account', debit: 'Debit', credit: 'Credit', balance: 'Balance', balanced: 'Balanced',
  notBalanced: 'Not balanced', allInvoices: 'All invoices',
  pipelineByStage: 'Pipeline by stage', pipelineByRep: 'Pipeline by rep', revenuePerTour: 'Booked revenue per tour',
  loadFactor: 'Load factor per tour', openPipeline: 'Open pipeline', weighted: 'Weighted', won: 'Won', lost: 'Lost',
  openAlerts: 'Open alerts', silentDevices: 'Devices not seen for a day', device: 'Device', lastSeen: 'Last seen',
  pending: 'Pending documents', booked: 'Booked', invoiced: 'Invoiced', departuresCount: 'Departures',
  users: 'Users', addUser: 'Add user', grants: 'Grants', disabled: 'disabled', active: 'active', disable: 'Disable',
  setGrants: 'Set grants', issueToken: 'Issue token', revokeTokens: 'Revoke tokens', tokenIssued: 'New token (shown once): {token}',
  revoked: '{n} tokens revoked.', grantsHint: 'territory:north, departure:ID, stock:ID',
  importTitle: 'Import from CSV', importKind: 'Records', chooseFile: 'CSV file', mapping: 'Column mapping',
  field: 'Field', column: 'Column', notMapped: '(not mapped)', dryRun: 'Check', runImport: 'Import',
  rows: 'Rows', records: 'Records', toCreate: 'New', toUpdate: 'Changed', unchanged: 'Unchanged',
  badRows: 'Rows left out', line: 'Line', importDone: 'Import finished: {created} new, {updated} changed, {unchanged} unchanged, {failed} left out.',
  importing: 'Importing… {done} of {total}',
  refresh: 'Refresh', details: 'Details', yes: 'yes', no: 'no',
  stages: { prospecting: 'Prospecting', qualification: 'Qualification', proposal: 'Proposal', negotiation: 'Negotiation', won: 'Won', lost: 'Lost' },
  values: {},
};

const hu = {
  appName: 'Itinera',
  signIn: 'Bejelentkezés', signOut: 'Kijelentkezés', user: 'Felhasználónév', password: 'Jelszó',
  badLogin: 'Hibás felhasználónév vagy jelszó.',
  dashboard: 'Áttekintés', accounts: 'Ügyfelek', leads: 'Érdeklődők', campaigns: 'Kampányok',
  tickets: 'Bejelentések', departures: 'Indulások', stock: 'Készlet', alerts: 'Riasztások',
  invoices: 'Számlák', admin: 'Adminisztráció', import: 'Importálás',
  search: 'Keresés', total: 'Összesen {n}', next: 'Következő', previous: 'Előző', exportCsv: 'CSV export',
  loading: 'Betöltés…', none: 'Nincs adat.', save: 'Mentés', saved: 'Mentve.', add: 'Hozzáadás', cancel: 'Mégse',
  notFound: 'Ez a rekord nem létezik, vagy nincs hozzá jogosultsága.',
  error: 'Hiba történt: {message}', live: 'élő', offline: 'újrakapcsolódás',
  name: 'Név', owner: 'Felelős', territory: 'Terület', city: 'Város', country: 'Ország',
  contacts: 'Kapcsolattartók', openOpportunities: 'Nyitott lehetőségek', kind: 'Típus', tags: 'Címkék',
  vatNumber: 'Adószám', street: 'Utca', postcode: 'Irányítószám',
  firstName: 'Keresztnév', lastName: 'Vezetéknév', title: 'Beosztás', email: 'E-mail', phone: 'Telefon',
  language: 'Nyelv', addContact: 'Kapcsolattartó hozzáadása', newAccount: 'Új ügyfél',
  opportunities: 'Lehetőségek', stage: 'Szakasz', amount: 'Összeg', probability: 'Valószínűség',
  activities: 'Tevékenységek', tasks: 'Feladatok', subject: 'Tárgy', body: 'Jegyzet', due: 'Határidő', done: 'Kész',
  logActivity: 'Tevékenység rögzítése', addTask: 'Feladat hozzáadása', when: 'Időpont', actor: 'Rögzítette',
  conflicts: 'Ütközések', conflictNote: 'Ketten egyszerre módosították: {field}. Megmaradt: {winner}; szintén beírva: {others}.',
  company: 'Cég', status: 'Állapot', source: 'Forrás', channel: 'Csatorna', starts: 'Kezdés', ends: 'Vége',
  members: 'Tagok', responses: 'Válaszok', budget: 'Költségkeret',
  priority: 'Prioritás', assignee: 'Felelős', account: 'Ügyfél', messages: 'Üzenetek', addMessage: 'Üzenet hozzáadása',
  tour: 'Túra', capacity: 'Férőhely', confirmed: 'Visszaigazolt', provisional: 'Előzetes', waitlisted: 'Várólistás',
  free: 'Szabad', guides: 'Idegenvezetők', seatPlan: 'Ülésrend', waitlist: 'Várólista', manifest: 'Utaslista',
  passenger: 'Utas', category: 'Kategória', dietary: 'Étrend', assignments: 'Idegenvezetői beosztások',
  role: 'Szerep', hours: 'Órák', answers: 'Válaszok', accepted: 'elfogadta', declined: 'elutasította',
  allotments: 'Helykeretek', seats: 'Helyek', booking: 'Foglalás', rep: 'Értékesítő', checkIns: 'Bejelentkezett',
  incidents: 'Események',
  location: 'Helyszín', custodian: 'Felelős', items: 'Tételek', units: 'Darab', item: 'Tétel',
  onHand: 'Készleten', reorderPoint: 'Rendelési pont', movements: 'Mozgások', quantity: 'Mennyiség',
  reason: 'Ok', transfersInFlight: 'Úton lévő átadások', from: 'Honnan', to: 'Hová', lines: 'Sorok', shipped: 'Feladva',
  stockExceptions: 'Készlethiányok', projected: 'Várható',
  acknowledge: 'Tudomásul vesz', resolve: 'Lezár', open: 'Nyitott', acknowledged: 'Tudomásul vett', resolved: 'Lezárt',
  all: 'Mind', rule: 'Szabály', severity: 'Súlyosság', message: 'Üzenet', raised: 'Keletkezett', document: 'Dokumentum',
  drafts: 'Piszkozatok', awaitingNumber: 'Sorszámra váró számlák', receivables: 'Kintlévőségek', ageing: 'Korosítás',
  trialBalance: 'Főkönyvi kivonat', number: 'Sorszám', customer: 'Vevő', issued: 'Kiállítva', dueOn: 'Esedékes',
  gross: 'Bruttó', outstanding: 'Nyitott összeg', daysPastDue: 'Késés (nap)', band: 'Sáv',
  ledgerAccount: 'Főkönyvi számla', debit: 'Tartozik', credit: 'Követel', balance: 'Egyenleg', balanced: 'Egyezik',
  notBalanced: 'Nem egyezik', allInvoices: 'Összes számla',
  pipelineByStage: 'Értékesítési tölcsér szakaszonként', pipelineByRep: 'Értékesítési tölcsér értékesítőnként',
  revenuePerTour: 'Foglalt árbevétel túránként', loadFactor: 'Telítettség túránként', openPipeline: 'Nyitott tölcsér',
  weighted: 'Súlyozott', won: 'Megnyert', lost: 'Elvesztett', openAlerts: 'Nyitott riasztások',
  silentDevices: 'Egy napja nem látott eszközök', device: 'Eszköz', lastSeen: 'Utoljára látva',
  pending: 'Függő dokumentumok', booked: 'Foglalt', invoiced: 'Számlázott', departuresCount: 'Indulások',
  users: 'Felhasználók', addUser: 'Felhasználó hozzáadása', grants: 'Jogosultságok', disabled: 'letiltva', active: 'aktív',
  disable: 'Letiltás', setGrants: 'Jogosultságok mentése', issueToken: 'Token kiadása',
  revokeTokens: 'Tokenek visszavonása', tokenIssued: 'Új token (csak most látható): {token}',
  revoked: '{n} token visszavonva.', grantsHint: 'territory:north, departure:ID, stock:ID',
  importTitle: 'Importálás CSV-ből', importKind: 'Rekordok', chooseFile: 'CSV fájl', mapping: 'Oszlopok megfeleltetése',
  field: 'Mező', column: 'Oszlop', notMapped: '(nincs megfeleltetve)', dryRun: 'Ellenőrzés', runImport: 'Importálás',
  rows: 'Sorok', records: 'Rekordok', toCreate: 'Új', toUpdate: 'Módosult', unchanged: 'Változatlan',
  badRows: 'Kihagyott sorok', line: 'Sor', importDone: 'Az importálás kész: {created} új, {updated} módosult, {unchanged} változatlan, {failed} kihagyva.',
  importing: 'Importálás… {done} / {total}',
  refresh: 'Frissítés', details: 'Részletek', yes: 'igen', no: 'nem',
  stages: { prospecting: 'Felkutatás', qualification: 'Minősítés', proposal: 'Ajánlat', negotiation: 'Tárgyalás', won: 'Megnyert', lost: 'Elvesztett' },
  // Statuses and kinds as records store them.
  values: {
    new: 'új', contacted: 'megkeresve', qualified: 'minősített', disqualified: 'kizárt', converted: 'konvertált',
    open: 'nyitott', pending: 'függőben', resolved: 'megoldva', closed: 'lezárva',
    low: 'alacsony', normal: 'normál', high: 'magas', urgent: 'sürgős', medium: 'közepes', critical: 'kritikus',
    scheduled: 'tervezett', guaranteed: 'garantált', cancelled: 'törölve', completed: 'lezajlott',
    draft: 'piszkozat', posted: 'kiállítva', credited: 'jóváírva', provisional: 'előzetes', confirmed: 'visszaigazolt',
    waitlisted: 'várólistás', rejected: 'elutasítva', shipped: 'feladva', received: 'átvéve',
    customer: 'ügyfél', supplier: 'beszállító', partner: 'partner',
    warehouse: 'raktár', van: 'furgon', tour_kit: 'túrafelszerelés',
    offered: 'felajánlva', accepted: 'elfogadva', declined: 'elutasítva', conflict: 'ütközés',
    lead: 'vezető', assistant: 'asszisztens', driver: 'sofőr',
    planned: 'tervezett', active: 'aktív', call: 'hívás', email: 'e-mail', meeting: 'találkozó', note: 'jegyzet',
    below_reorder_point: 'rendelési pont alatt', negative: 'negatív',
  },
};

const dictionaries = { en, hu };
const locales = { en: 'en-GB', hu: 'hu-HU' };

let language = (() => {
  const saved = globalThis.localStorage?.getItem('itinera.language');
  if (saved === 'en' || saved === 'hu') return saved;
  return (globalThis.navigator?.language || 'en').startsWith('hu') ? 'hu' : 'en';
})();

export const languages = ['en', 'hu'];
export const currentLanguage = () => language;

export function setLanguage(next) {
  language = next;
  globalThis.localStorage?.setItem('itinera.language', next);
  document.documentElement.lang = next;
}

/** The text for `key`, with `{name}` replaced from `vars`. */
export function t(key, vars = {}) {
  const text = dictionaries[language][key] ?? en[key] ?? key;
  return String(text).replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

export const stageName = (stage) => dictionaries[language].stages[stage] ?? stage;

/** A status or kind as stored (`scheduled`, `tour_kit`), in the current language. */
export const valueName = (value) => dictionaries[language].values[value] ?? value;

const locale = () => locales[language];
// ISO 4217 minor units, where not two. Browsers disagree (some answer HUF's cash digits, 0),
// so the table is ours: an amount in minor units must mean the same on every screen.
const ZERO_DECIMALS = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);
const THREE_DECIMALS = new Set(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']);

/** Decimal places of a currency's minor unit: 2 for EUR and HUF (fillér), 0 for JPY. */
export function minorDigits(currency) {
  if (ZERO_DECIMALS.has(currency)) return 0;
  if (THREE_DECIMALS.has(currency)) return 3;
  return 2;
}

/** An amount in minor units of `currency`, formatted for the current language. */
export function money(minor, currency) {
  if (minor === null || minor === undefined || !currency) return '';
  const value = Number(minor) / 10 ** minorDigits(currency);
  const whole = currency === 'HUF';
  try {
    return new Intl.NumberFormat(locale(), {
      style: 'currency', currency,
      minimumFractionDigits: whole ? 0 : undefined,
      maximumFractionDigits: whole ? 0 : undefined,
    }).format(value);
  } catch {
    return `${value.toFixed(2)} ${currency}`;
  }
}

/** Sums per currency (`{"EUR": 780000}`), each formatted, joined. */
export const amounts = (sums) =>
  Object.entries(sums || {}).map(([currency, minor]) => money(minor, currency)).join(' · ') || money(0, 'EUR');

export const number = (value) =>
  value === null || value === undefined ? '' : new Intl.NumberFormat(locale()).format(value);

export const percent = (ratio) =>
  ratio === null || ratio === undefined ? '–' : new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 0 }).format(ratio);

/** A date from Unix milliseconds or an ISO date (`2026-12-01`). */
export function date(value) {
  if (value === null || value === undefined || value === '') return '';
  const when = typeof value === 'number' ? new Date(value) : new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(when.getTime())) return String(value);
  const options = { year: 'numeric', month: 'short', day: 'numeric' };
  if (typeof value !== 'number') options.timeZone = 'UTC';
  return new Intl.DateTimeFormat(locale(), options).format(when);
}

export function dateTime(ms) {
  if (ms === null || ms === undefined) return '';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(ms));
}
