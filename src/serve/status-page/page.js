// lionctr's status page script (served at /status/page.js): polls /v1/lionctr/status, writes the
// figures into the cards and draws the history with uPlot (window.uPlot, /status/uplot.min.js).
// window.lionctrStatus exposes the charts and the last answer (the browser test reads them).
(() => {
  const STATUS_URL = '/v1/lionctr/status';
  const $ = (id) => document.getElementById(id);
  const state = { charts: {}, last: null, refreshes: 0, errors: 0 };
  window.lionctrStatus = state;

  const num = (v, digits = 4) => (v === null || v === undefined ? '–' : Number(v).toFixed(digits));
  const int = (v) => (v === null || v === undefined ? '–' : Math.round(v).toLocaleString('en-US'));
  /** Seconds as a short duration: 850 ms, 4.2 s, 3 min 10 s, 2.1 h, 335 d. */
  function dur(s) {
    if (s === null || s === undefined) return '–';
    const a = Math.abs(s);
    if (a < 1) return `${Math.round(s * 1000)} ms`;
    if (a < 60) return `${s.toFixed(1)} s`;
    if (a < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
    if (a < 86400 * 2) return `${(s / 3600).toFixed(1)} h`;
    return `${(s / 86400).toFixed(1)} d`;
  }
  /** A local time as 2026-12-02 16:37:33 (Swedish locale: ISO order). */
  const stamp = (d) => d.toLocaleString('sv-SE');
  const rate = (v, unit) => (v === null || v === undefined ? '–' : `${int(v)} ${unit}/s`);
  const set = (id, text) => {
    $(id).textContent = text;
  };

  const COLORS = { window: '#1f6fd1', lifetime: '#e8731a', ref: '#9aa3b2', predict: '#2a9d5c' };
  const line = (label, stroke, extra = {}) => ({ label, stroke, width: 2, points: { show: false }, ...extra });
  /** The charts: element id, series (after x) and how each takes its data from the history. */
  const CHARTS = {
    auc: {
      series: [line('window', COLORS.window), line('lifetime', COLORS.lifetime, { dash: [6, 4] })],
      data: (h) => [h.auc_window, h.auc_lifetime],
      digits: 4,
    },
    logloss: {
      series: [line('window', COLORS.window), line('lifetime', COLORS.lifetime, { dash: [6, 4] })],
      data: (h) => [h.logloss_window, h.logloss_lifetime],
      digits: 4,
    },
    calibration: {
      series: [
        line('window', COLORS.window),
        line('lifetime', COLORS.lifetime, { dash: [6, 4] }),
        line('calibrated', COLORS.ref, { width: 1, dash: [2, 3] }),
      ],
      data: (h) => [h.calibration_window, h.calibration_lifetime, h.t.map(() => 1)],
      digits: 3,
    },
    throughput: {
      series: [
        line('training examples/s', COLORS.window, { scale: 'ex' }),
        line('prediction requests/s', COLORS.predict, { scale: 'req' }),
      ],
      data: (h) => [h.train_examples_per_second, h.predict_requests_per_second],
      axes: [
        { scale: 'ex', label: 'examples/s', size: 60 },
        { scale: 'req', side: 1, label: 'requests/s', grid: { show: false }, size: 60 },
      ],
      digits: 1,
    },
  };
  /** Throughput in `serve` (no trainer): predictions only. */
  const SERVE_THROUGHPUT = {
    series: [line('prediction requests/s', COLORS.predict)],
    data: (h) => [h.predict_requests_per_second],
    axes: [{ label: 'requests/s', size: 60 }],
    digits: 1,
  };
  /** Time ticks at whole seconds and up (uPlot would tick every 250 ms over a few seconds of history). */
  const X_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

  function chartWidth(el) {
    return Math.max(300, el.clientWidth);
  }

  function showLatest(u) {
    if (u.cursor.idx === null || u.cursor.idx === undefined) u.setLegend({ idx: u.data[0].length - 1 });
  }

  function makeChart(name, spec, data) {
    const el = $(`chart-${name}`);
    const fmt = (_u, v) => (v === null || v === undefined ? '–' : v.toFixed(spec.digits));
    const opts = {
      width: chartWidth(el),
      height: 220,
      series: [
        { value: (_u, v) => (v === null ? '–' : stamp(new Date(v * 1000))) },
        ...spec.series.map((s) => ({ value: fmt, ...s })),
      ],
      axes: [{ incrs: X_INCRS, space: 60 }, ...(spec.axes ?? [{ size: 60 }])],
      scales: { x: { time: true } },
      legend: { live: true },
      // the legend shows the newest values unless the cursor is over the chart
      hooks: { setCursor: [showLatest], setData: [showLatest] },
    };
    return new window.uPlot(opts, data, el);
  }

  function drawCharts(body) {
    const h = body.history.series;
    for (const [name, trained] of Object.entries(CHARTS)) {
      if (!body.trainer && name !== 'throughput') continue;
      const spec = body.trainer ? trained : SERVE_THROUGHPUT;
      const data = [h.t, ...spec.data(h)];
      const chart = state.charts[name];
      if (chart) chart.setData(data);
      else state.charts[name] = makeChart(name, spec, data);
    }
  }

  function writeFigures(body, worker) {
    const s = body.served;
    const l = body.latest ?? {};
    set('model-name', body.model_name);
    set('version', s ? s.version : 'none loaded yet');
    set('created', s ? stamp(new Date(s.created_at)) : '–');
    set('age', s ? dur(s.age_seconds) : '–');
    set('step', s ? `${int(s.step)} / ${int(s.examples)}` : '–');
    set('training', body.trainer ? (body.training ?? 'in this process') : 'none in this process');
    if (body.trainer) {
      set('quality', `${num(l.auc_window)} / ${num(l.logloss_window)} / ${num(l.calibration_window, 3)}`);
      set(
        'quality-lifetime',
        `${num(l.auc_lifetime)} / ${num(l.logloss_lifetime)} / ${num(l.calibration_lifetime, 3)}`,
      );
    } else {
      const m = s?.metrics_at_export ?? {};
      set('quality-label', 'at export: AUC / logloss / calib.');
      set('quality', s ? `${num(m.auc)} / ${num(m.logloss)} / ${num(m.calibration, 3)}` : '–');
      set('quality-lifetime', '–');
    }
    set('lag-train', dur(l.train_event_lag_seconds));
    set('lag-export', dur(l.export_event_lag_seconds));
    set('lag-age', s ? dur(s.age_seconds) : '–');
    set('lag-serve', s ? dur(s.event_lag_seconds) : '–');
    set('tp-train', body.trainer ? rate(l.train_examples_per_second, 'examples') : 'no trainer');
    set('tp-predict', rate(l.predict_requests_per_second, 'requests'));
    for (const id of ['worker', 'worker-label']) $(id).hidden = worker === null;
    if (worker !== null) set('worker', `worker ${worker} (its own figures)`);
    $('no-trainer').hidden = body.trainer;
    for (const f of document.querySelectorAll('figure.quality')) f.hidden = !body.trainer;
    const hist = body.history;
    const n = hist.series.t.length;
    set(
      'history',
      `history: ${n} of ${hist.capacity} samples, every ${hist.interval_seconds} s (${int(hist.bytes)} B)`,
    );
    set('updated', `updated ${stamp(new Date(body.now * 1000))}`);
  }

  async function refresh() {
    let next = 5;
    try {
      const r = await fetch(STATUS_URL, { cache: 'no-store' });
      if (!r.ok) throw new Error(`${STATUS_URL} answered ${r.status}`);
      const body = await r.json();
      state.last = body;
      writeFigures(body, r.headers.get('x-lionctr-worker'));
      drawCharts(body);
      $('error').hidden = true;
      state.refreshes++;
      next = Math.min(5, Math.max(1, body.history.interval_seconds));
    } catch (e) {
      state.errors++;
      set('error', `cannot read ${STATUS_URL}: ${e.message}`);
      $('error').hidden = false;
    }
    setTimeout(refresh, next * 1000);
  }

  window.addEventListener('resize', () => {
    for (const [name, chart] of Object.entries(state.charts))
      chart.setSize({ width: chartWidth($(`chart-${name}`)), height: 220 });
  });
  refresh();
})();
