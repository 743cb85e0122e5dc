// kenbaar console: passkey ceremonies (enrolment, sign-in, signing a decision). Served by the hub;
// no inline script anywhere (the Content-Security-Policy forbids it). Uses @simplewebauthn/browser.
'use strict';
(function () {
  var WebAuthn = window.SimpleWebAuthnBrowser;

  function say(text, kind) {
    var box = document.getElementById('melding');
    if (!box) return;
    box.innerHTML = '';
    var div = document.createElement('div');
    div.className = 'notice ' + (kind || 'fout');
    div.setAttribute('role', kind === 'fout' || !kind ? 'alert' : 'status');
    div.textContent = text;
    box.appendChild(div);
  }

  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body || {}),
    }).then(function (r) {
      return r.json().then(
        function (data) { return { ok: r.ok, status: r.status, data: data }; },
        function () { return { ok: r.ok, status: r.status, data: {} }; }
      );
    });
  }

  function ceremonyError(e) {
    if (e && e.name === 'NotAllowedError') return 'De passkey-vraag is geannuleerd of verlopen. Probeer het opnieuw.';
    return 'Uw apparaat kon de passkey niet gebruiken (' + (e && e.message ? e.message : 'onbekende fout') + ').';
  }

  function busy(button, on) {
    if (!button) return;
    button.disabled = on;
    button.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  // "Afdrukken": the printable version (print CSS leaves out navigation and what the FG alone sees).
  Array.prototype.forEach.call(document.querySelectorAll('[data-print]'), function (b) {
    b.addEventListener('click', function () { window.print(); });
  });

  // Enrolment from an invitation.
  var enrol = document.getElementById('registreren');
  if (enrol) {
    enrol.addEventListener('click', function () {
      var url = enrol.getAttribute('data-url');
      busy(enrol, true);
      say('Uw apparaat vraagt nu om uw pincode, vingerafdruk of gezicht…', 'info');
      post(url + '/opties')
        .then(function (r) {
          if (!r.ok) throw new Error(r.data.message || 'De uitnodiging werkt niet.');
          return WebAuthn.startRegistration({ optionsJSON: r.data.options }).then(
            function (response) { return post(url, { challengeId: r.data.challengeId, response: response }); },
            function (e) { throw new Error(ceremonyError(e)); }
          );
        })
        .then(function (r) {
          if (!r.ok) throw new Error(r.data.message || 'Registreren is niet gelukt.');
          say('Uw passkey is geregistreerd. U wordt doorgestuurd…', 'ok');
          window.location.assign(r.data.next);
        })
        .catch(function (e) { say(e.message); busy(enrol, false); });
    });
  }

  // Sign-in.
  var signIn = document.getElementById('inloggen');
  if (signIn) {
    signIn.addEventListener('click', function () {
      busy(signIn, true);
      post('/console/inloggen/opties')
        .then(function (r) {
          if (!r.ok) throw new Error(r.data.message || 'Inloggen kan nu niet.');
          return WebAuthn.startAuthentication({ optionsJSON: r.data.options }).then(
            function (response) { return post('/console/inloggen', { challengeId: r.data.challengeId, response: response }); },
            function (e) { throw new Error(ceremonyError(e)); }
          );
        })
        .then(function (r) {
          if (!r.ok) throw new Error(r.data.message || 'Inloggen is niet gelukt.');
          window.location.assign(r.data.next);
        })
        .catch(function (e) { say(e.message); busy(signIn, false); });
    });
  }

  // A decision, signed with the passkey: the hub returns the canonical decision and a challenge
  // that is its hash; the authenticator signs that; the hub recomputes and verifies it.
  var form = document.getElementById('besluit');
  if (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var button = ev.submitter || form.querySelector('button[type=submit]');
      var fields = new FormData(form);
      var outcome = button && button.value ? button.value : fields.get('outcome');
      var input = {
        outcome: outcome,
        categories: fields.getAll('categories'),
        validUntil: fields.get('validUntil') || '',
        reason: fields.get('reason') || '',
      };
      busy(button, true);
      say('Controleer het besluit; uw apparaat vraagt om uw pincode, vingerafdruk of gezicht om het te ondertekenen…', 'info');
      post(form.getAttribute('action') + '/voorbereiden', input)
        .then(function (r) {
          if (!r.ok) throw new Error(r.data.message || 'Het besluit kon niet worden voorbereid.');
          return WebAuthn.startAuthentication({ optionsJSON: r.data.options }).then(
            function (response) { return post(form.getAttribute('action'), { decision: r.data.decision, response: response }); },
            function (e) { throw new Error(ceremonyError(e)); }
          );
        })
        .then(function (r) {
          if (!r.ok) throw new Error(r.data.message || 'Het besluit is niet vastgelegd.');
          window.location.assign(r.data.next);
        })
        .catch(function (e) { say(e.message); busy(button, false); });
    });
  }
})();
