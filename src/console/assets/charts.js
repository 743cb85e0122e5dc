// kenbaar console: draws the overview's charts with Chart.js (served by the hub as
// chart.umd.min.js). Each <figure data-chart> carries its Chart.js configuration as JSON (no inline
// script: the Content-Security-Policy forbids it); the table beside it stays as the accessible
// version and is folded away under "Cijfers" once the chart is drawn.
'use strict';
(function () {
  if (!window.Chart) return;
  Array.prototype.forEach.call(document.querySelectorAll('figure[data-chart]'), function (figure) {
    var config;
    try {
      config = JSON.parse(figure.getAttribute('data-chart'));
    } catch (e) {
      return;
    }
    var box = figure.querySelector('.chart-box');
    if (!box) return;
    var canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', (figure.getAttribute('data-title') || 'Grafiek') + ' (de cijfers staan in de tabel eronder)');
    box.appendChild(canvas);
    new window.Chart(canvas, config);
    var details = figure.querySelector('details');
    if (details) details.removeAttribute('open');
    figure.setAttribute('data-drawn', 'true');
  });
})();
