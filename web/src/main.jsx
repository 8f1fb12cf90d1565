// Itinera head office: the session gate, the layout and the routes.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Router, useLocation } from 'preact-iso';
import { api, setCsrfToken, whenSignedOut } from './api.js';
import { currentLanguage, languages, setLanguage, t } from './i18n.js';
import { startLive, stopLive, useLiveStatus } from './live.js';
import { SignIn } from './screens/SignIn.jsx';
import { Dashboard } from './screens/Dashboard.jsx';
import { Accounts } from './screens/Accounts.jsx';
import { AccountDetail } from './screens/AccountDetail.jsx';
import { Leads } from './screens/Leads.jsx';
import { Tickets } from './screens/Tickets.jsx';
import { Departures } from './screens/Departures.jsx';
import { DepartureDetail } from './screens/DepartureDetail.jsx';
import { Stock } from './screens/Stock.jsx';
import { StockDetail } from './screens/StockDetail.jsx';
import { Alerts } from './screens/Alerts.jsx';
import { Invoices } from './screens/Invoices.jsx';
import { Admin } from './screens/Admin.jsx';
import { Import } from './screens/Import.jsx';
import './style.css';

/** The screens each role works in, first one as home. Guides never see prices: no screen of
 *  theirs shows one, and the server gives them no document that holds one. */
const screensOf = {
  admin: ['dashboard', 'accounts', 'leads', 'tickets', 'departures', 'stock', 'alerts', 'invoices', 'import', 'admin'],
  office: ['dashboard', 'accounts', 'leads', 'tickets', 'departures', 'stock', 'alerts', 'invoices', 'import'],
  sales: ['accounts', 'leads', 'tickets', 'departures', 'invoices', 'import'],
  guide: ['departures', 'stock'],
};

function Home({ session }) {
  const { route } = useLocation();
  useEffect(() => route(`/${screensOf[session.role][0]}`, true), []);
  return null;
}

function Layout({ session, onSignOut, onLanguage, children }) {
  const { path } = useLocation();
  const live = useLiveStatus();
  return (
    <div class="layout">
      <nav class="sidebar">
        <div class="brand">{t('appName')}</div>
        {screensOf[session.role].map((screen) => (
          <a key={screen} href={`/${screen}`} data-nav={screen} class={path.startsWith(`/${screen}`) ? 'active' : ''}>{t(screen)}</a>
        ))}
      </nav>
      <div class="main">
        <header class="topbar">
          <span class={`live ${live}`} data-testid="live-status">● {t(live)}</span>
          <span class="who" data-testid="who">{session.user} · {session.role}</span>
          <select aria-label="language" value={currentLanguage()} onChange={(e) => onLanguage(e.currentTarget.value)}>
            {languages.map((code) => <option key={code} value={code}>{code.toUpperCase()}</option>)}
          </select>
          <button class="secondary" onClick={onSignOut}>{t('signOut')}</button>
        </header>
        <main>{children}</main>
      </div>
    </div>
  );
}

function App() {
  const [session, setSession] = useState(undefined);
  const [language, setLanguageState] = useState(currentLanguage());
  const signedIn = (next) => {
    setCsrfToken(next?.csrf_token);
    setSession(next);
    if (next) startLive(); else stopLive();
  };
  useEffect(() => {
    whenSignedOut(() => signedIn(null));
    api('/session').then(signedIn, () => signedIn(null));
  }, []);
  const changeLanguage = (next) => {
    setLanguage(next);
    setLanguageState(next);
  };
  const signOut = async () => {
    await api('/session', { method: 'DELETE' }).catch(() => {});
    signedIn(null);
    history.pushState(null, '', '/');
  };
  if (session === undefined) return <p class="muted center">{t('loading')}</p>;
  if (!session) return <SignIn key={language} onSignedIn={signedIn} onLanguage={changeLanguage} />;
  const role = session.role;
  return (
    <LocationProvider>
      <Layout key={language} session={session} onSignOut={signOut} onLanguage={changeLanguage}>
        <Router>
          <Home path="/" session={session} />
          <Dashboard path="/dashboard" session={session} />
          <Accounts path="/accounts" session={session} />
          <AccountDetail path="/accounts/:id" session={session} />
          <Leads path="/leads" session={session} />
          <Tickets path="/tickets" session={session} />
          <Departures path="/departures" session={session} />
          <DepartureDetail path="/departures/:id" session={session} />
          <Stock path="/stock" session={session} />
          <StockDetail path="/stock/:id" session={session} />
          <Alerts path="/alerts" session={session} />
          <Invoices path="/invoices" session={session} />
          <Import path="/import" session={session} />
          {role === 'admin' ? <Admin path="/admin" session={session} /> : null}
          <Home default session={session} />
        </Router>
      </Layout>
    </LocationProvider>
  );
}

document.documentElement.lang = currentLanguage();
render(<App />, document.getElementById('app'));
