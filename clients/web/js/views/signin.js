// #/signin: paste a token, or use the client certificate the browser presents;
// system.whoami says whose it is.

import { append, h } from '../dom.js';
import { t } from '../i18n.js';
import { describe, reference, clearFields, markField } from '../errors.js';
import { pageHeading, say } from '../ui.js';

function certMessage(err) {
  if (err.reason === 'no_credentials') return t('signin.noCertificate');
  if (err.reason === 'bad_credentials') return t('signin.certificateUnknown');
  return describe(err);
}

export const signinView = {
  id: 'signin',
  path: '/signin',
  titleKey: 'signin.title',
  create(ctx) {
    const state = { token: '', busy: false, error: null, certError: null };

    // The browser's client certificate, if it presents one: whoami with no token.
    async function withCertificate() {
      if (state.busy) return;
      state.busy = true;
      state.certError = null;
      ctx.redraw();
      say(t('signin.working'));
      try {
        const me = await ctx.rpc.call('system.whoami', null, { token: null, quietAuth: true });
        await ctx.signedIn(null, me);
      } catch (err) {
        state.busy = false;
        state.certError = err;
        ctx.redraw();
        say(certMessage(err), 'error');
        const again = document.getElementById('sign-in-cert');
        if (again) again.focus();
      }
    }

    async function submit(ev) {
      ev.preventDefault();
      if (state.busy) return;
      const form = ev.currentTarget;
      const input = form.querySelector('#token');
      clearFields(form);
      state.error = null;
      // a pasted "Bearer fl_..." works too
      const token = input.value.trim().replace(/^bearer\s+/i, '');
      if (!token) {
        markField(input, t('signin.emptyToken'));
        say(t('signin.emptyToken'), 'error');
        input.focus();
        return;
      }
      state.busy = true;
      ctx.redraw();
      say(t('signin.working'));
      try {
        const me = await ctx.rpc.call('system.whoami', null, { token, quietAuth: true });
        state.token = '';
        await ctx.signedIn(token, me);
      } catch (err) {
        state.busy = false;
        state.error = err;
        ctx.redraw();
        say(describe(err), 'error');
        const again = document.getElementById('token');
        if (again) again.focus();
      }
    }

    return {
      async load() {},
      draw(root) {
        const notice = ctx.signinNotice();
        const input = h('input', {
          id: 'token', name: 'token', type: 'password', autocomplete: 'off',
          spellcheck: 'false', autocapitalize: 'off', required: true,
          'aria-describedby': 'token-help', value: state.token,
          on: { input: (e) => { state.token = e.target.value; } },
        });
        const form = h('form', {
          id: 'sign-in-form', class: 'card form', novalidate: true, on: { submit },
        },
        h('div', { class: 'field' },
          h('label', { for: 'token' }, t('signin.token')),
          h('p', { id: 'token-help', class: 'help' }, t('signin.tokenHelp')),
          input),
        h('div', { class: 'actions' },
          h('button', { id: 'sign-in', type: 'submit', class: 'button', disabled: state.busy },
            state.busy ? t('signin.working') : t('signin.submit'))));
        const cert = h('section', { class: 'card form', 'aria-labelledby': 'cert-title' },
          h('h2', { id: 'cert-title' }, t('signin.certTitle')),
          h('p', { class: 'help' }, t('signin.certIntro')),
          h('div', { class: 'actions' },
            h('button', {
              id: 'sign-in-cert', type: 'button', class: 'button secondary', disabled: state.busy,
              'aria-describedby': state.certError ? 'cert-error' : null,
              on: { click: withCertificate },
            }, t('signin.certSubmit'))),
          state.certError ? h('p', { id: 'cert-error', class: 'error-text', 'data-test': 'cert-error' },
            certMessage(state.certError)) : null);
        if (state.error) {
          // A failed sign-in always concerns the token field.
          markField(input, describe(state.error));
        }
        // (dom.js append: the DOM's own would write null as "null")
        append(root, [
          pageHeading(t('signin.title')),
          notice ? h('p', {
            class: 'notice notice-' + notice.kind, role: notice.kind === 'error' ? 'alert' : 'status',
            'data-test': 'signin-message',
          }, t(notice.key)) : null,
          h('p', { class: 'intro' }, t('signin.intro')),
          form,
          state.error ? h('p', { class: 'error-ref' }, t('errors.reference', { ref: reference(state.error) })) : null,
          cert,
        ]);
      },
    };
  },
};
