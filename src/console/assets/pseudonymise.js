// kenbaar console: search by person without the BSN leaving the browser. The BSN is checked (the
// elfproef) and pseudonymised here, with the covenant key the FG loads from a local file, exactly as
// partners do (src/pseudonym/pseudonymise.ts):
//   base64url(HMAC-SHA256(covenantKey, utf8("kenbaar:v1:bsn:" + normalised BSN)))
// Only that pseudonym is sent. The BSN field and the key file are outside the form and have no
// name, so the browser could not submit them even if this script failed.
'use strict';
(function () {
  var form = document.getElementById('persoon');
  if (!form) return;
  var bsnField = document.getElementById('bsn');
  var keyField = document.getElementById('sleutel');
  var subject = document.getElementById('subject');

  function say(text, kind) {
    var box = document.getElementById('melding');
    box.innerHTML = '';
    var div = document.createElement('div');
    div.className = 'notice ' + (kind || 'fout');
    div.setAttribute('role', kind ? 'status' : 'alert');
    div.textContent = text;
    box.appendChild(div);
  }

  // The BSN as normaliseBsn does it: separators out, 8 digits padded, not all zeros, elfproef.
  function normaliseBsn(input) {
    var s = String(input).replace(/[\s.\-]/g, '');
    if (!/^[0-9]*$/.test(s)) throw new Error('Een BSN bestaat alleen uit cijfers (spaties, punten en streepjes mogen).');
    if (s.length !== 8 && s.length !== 9) throw new Error('Een BSN heeft 9 cijfers; u typte er ' + s.length + '.');
    if (s.length === 8) s = '0' + s;
    if (s === '000000000') throw new Error('Dit is geen geldig BSN.');
    var weights = [9, 8, 7, 6, 5, 4, 3, 2, -1];
    var sum = 0;
    for (var i = 0; i < 9; i++) sum += weights[i] * (s.charCodeAt(i) - 48);
    if (sum % 11 !== 0) throw new Error('Dit BSN klopt niet (de elfproef faalt). Controleer of u een cijfer verkeerd hebt getypt. Er is niets verstuurd.');
    return s;
  }

  function fromBase64Url(text) {
    var t = text.trim();
    if (!/^[A-Za-z0-9_-]+$/.test(t)) throw new Error('Het sleutelbestand bevat geen convenantsleutel (base64url verwacht).');
    var b64 = t.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) b64 += '=';
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function toBase64Url(bytes) {
    var bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function readKey() {
    var file = keyField.files && keyField.files[0];
    if (!file) return Promise.reject(new Error('Kies eerst het bestand met de convenantsleutel.'));
    return file.text().then(function (text) {
      var key = fromBase64Url(text);
      if (key.length < 32) throw new Error('De convenantsleutel is te kort (minstens 32 bytes).');
      return key;
    });
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var bsn;
    try {
      bsn = normaliseBsn(bsnField.value);
    } catch (e) {
      say(e.message);
      bsnField.setAttribute('aria-invalid', 'true');
      bsnField.focus();
      return;
    }
    bsnField.removeAttribute('aria-invalid');
    readKey()
      .then(function (key) {
        return crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      })
      .then(function (key) {
        return crypto.subtle.sign('HMAC', key, new TextEncoder().encode('kenbaar:v1:bsn:' + bsn));
      })
      .then(function (mac) {
        subject.value = toBase64Url(new Uint8Array(mac));
        bsnField.value = '';
        say('Pseudoniem gemaakt; alleen dat wordt verstuurd.', 'info');
        form.submit();
      })
      .catch(function (e) { say(e.message); });
  });
})();
