import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { currentLanguage, languages, t } from '../i18n.js';

export function SignIn({ onSignedIn, onLanguage }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [failed, setFailed] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    try {
      onSignedIn(await api('/session', { method: 'POST', body: { user, password } }));
    } catch {
      setFailed(true);
    }
  };
  return (
    <form class="sign-in card" onSubmit={submit}>
      <h1>{t('appName')}</h1>
      <label class="field"><span>{t('user')}</span>
        <input name="user" autocomplete="username" value={user} onInput={(e) => setUser(e.currentTarget.value)} required />
      </label>
      <label class="field"><span>{t('password')}</span>
        <input name="password" type="password" autocomplete="current-password" value={password}
          onInput={(e) => setPassword(e.currentTarget.value)} required />
      </label>
      {failed && <p class="error" role="alert">{t('badLogin')}</p>}
      <button type="submit">{t('signIn')}</button>
      <select aria-label="language" value={currentLanguage()} onChange={(e) => onLanguage(e.currentTarget.value)}>
        {languages.map((code) => <option key={code} value={code}>{code.toUpperCase()}</option>)}
      </select>
    </form>
  );
}
