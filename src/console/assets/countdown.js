// kenbaar console: break-glass review deadlines count down while the page is open. The server
// renders the text (correct without script) with the deadline and its own time in data-
// attributes; this ticks from the server's time (not the browser's clock, which may be off), in the
// same words as the server (src/console/layout.tsx `duration`).
'use strict';
(function () {
  function duration(ms) {
    var minutes = Math.max(0, Math.round(Math.abs(ms) / 60000));
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days > 1) return days + ' dagen' + (hours ? ' en ' + hours + ' uur' : '');
    if (minutes >= 60) return Math.floor(minutes / 60) + ' uur' + (mins ? ' en ' + mins + ' min.' : '');
    return mins + ' min.';
  }
  var badges = document.querySelectorAll('[data-deadline][data-now]');
  if (badges.length === 0) return;
  var started = performance.now();
  function tick() {
    Array.prototype.forEach.call(badges, function (badge) {
      var now = Date.parse(badge.getAttribute('data-now')) + (performance.now() - started);
      var left = Date.parse(badge.getAttribute('data-deadline')) - now;
      var text = left > 0 ? 'toetsing binnen ' + duration(left) : 'toetsing ' + duration(left) + ' te laat';
      if (badge.textContent !== text) badge.textContent = text;
      badge.classList.toggle('warn', left > 0);
      badge.classList.toggle('bad', left <= 0);
    });
  }
  tick();
  setInterval(tick, 1000);
})();
