// The FuncGateway dashboard. Asks for the admin key once per page load (kept in this script's memory only, never in
// storage another page of the gateway's origin could read — every proxied response shares that origin —, sent only
// in the X-Admin-Key header, never in a URL), then polls /_gateway/dashboard/data and renders it. Every value from the
// gateway is written with textContent: a route id or a rejection reason is text, never markup.
'use strict';

(() => {
  const DATA_URL = '/_gateway/dashboard/data';
  const REFRESH_MS = 2000;
  const BLOCKS = '\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588';

  let timer = null;
  let adminKey = null;
  let paused = false;

  const $ = (id) => document.getElementById(id);

  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '' : String(text);
    if (className) td.className = className;
    return td;
  }

  function ms(value) {
    if (value === null || value === undefined) return '\u2013';
    return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : Math.round(value).toString();
  }

  function percent(value) {
    return (value * 100).toFixed(value > 0 && value < 0.01 ? 2 : 1) + ' %';
  }

  function sparkline(series, errors) {
    const td = document.createElement('td');
    const span = document.createElement('span');
    span.className = 'spark';
    const max = Math.max(1, ...series);
    series.forEach((count, i) => {
      const bar = document.createElement('span');
      bar.textContent = BLOCKS[Math.min(BLOCKS.length - 1, Math.floor((count / max) * (BLOCKS.length - 1)))];
      if (errors[i] > 0) bar.className = 'err';
      span.appendChild(bar);
    });
    span.title = series.join(' ') + ' requests per 10 s, oldest first';
    td.appendChild(span);
    return td;
  }

  // A table row: data-* attributes (for the tests and for styling), a class, and its cells.
  function row(dataset, className, cells) {
    const tr = document.createElement('tr');
    Object.assign(tr.dataset, dataset);
    if (className) tr.className = className;
    tr.append(...cells);
    return tr;
  }

  // Replaces a table's rows; with a "none" note, shows the note instead of an empty table.
  function fill(tableId, rows, noneId) {
    if (noneId) {
      $(noneId).hidden = rows.length > 0;
      $(tableId).hidden = rows.length === 0;
    }
    $(tableId).tBodies[0].replaceChildren(...rows);
  }

  function renderRoutes(routes) {
    fill('routes', routes.map((route) => {
      const tr = row({ route: route.id }, 'route status-' + route.status, [
        cell(route.status, 'status'),
        cell(route.id, 'mono id'),
        cell(route.path, 'mono'),
        cell(route.methods.length ? route.methods.join(', ') : 'any'),
        cell(route.pool, 'mono'),
        cell(route.available + ' / ' + route.instances, 'num'),
        cell(route.requests, 'num requests'),
        cell(route.requestsPerSecond, 'num'),
        cell(route.recentClientErrors, 'num'),
        cell(route.recentServerErrors, 'num errors'),
        cell(percent(route.errorRate), 'num'),
        cell(ms(route.p50Ms), 'num'),
        cell(ms(route.p95Ms), 'num'),
        cell(ms(route.p99Ms), 'num'),
        sparkline(route.series, route.errorSeries)]);
      tr.title = route.statusReason;
      return tr;
    }));
  }

  function renderRejected(rejected) {
    fill('rejected', rejected.map((rejectedRow) => {
      const reasons = document.createElement('td');
      reasons.className = 'reasons';
      const list = document.createElement('ul');
      for (const error of rejectedRow.errors) {
        const item = document.createElement('li');
        item.textContent = error;
        list.appendChild(item);
      }
      reasons.appendChild(list);
      return row({ row: rejectedRow.rowKey }, null,
        [cell(rejectedRow.table), cell(rejectedRow.partitionKey, 'mono'), cell(rejectedRow.rowKey, 'mono id'), reasons]);
    }), 'rejected-none');
  }

  function renderPools(pools) {
    fill('pools', pools.flatMap((pool) => pool.instances.map((instance) => {
      const health = instance.health ? instance.health.state + (instance.health.stale ? ' (stale)' : '') : 'no check';
      const lastError = instance.health && instance.health.lastError ? instance.health.lastError : '';
      return row({ pool: pool.name, instance: instance.url }, 'instance ' + (instance.available ? 'status-ok' : 'status-down'), [
        cell(pool.name, 'mono'),
        cell(instance.url, 'mono'),
        cell(instance.available ? 'yes' : 'no', 'status'),
        cell(health),
        cell(instance.circuit.enabled ? instance.circuit.state : 'off'),
        cell(instance.outstandingRequests, 'num'),
        cell(lastError)]);
    })));
  }

  function renderRateLimits(policies) {
    fill('rate-limits', policies.map((policy) => row({ policy: policy.name }, null, [
      cell(policy.name, 'mono'),
      cell(policy.algorithm),
      cell(policy.mode),
      cell(policy.limit, 'num'),
      cell(policy.windowSeconds, 'num'),
      cell(policy.partitions, 'num'),
      cell(policy.allowed, 'num'),
      cell(policy.rejected, 'num'),
      cell(policy.unavailable, 'num')])), 'rate-limits-none');
  }

  function render(data) {
    const totals = data.totals;
    $('total-requests').textContent = String(totals.requests);
    $('total-rate').textContent = (totals.recentRequests / data.recentSeconds).toFixed(2);
    $('total-errors').textContent = String(totals.recentServerErrors);
    $('routes-down').textContent = String(totals.down);
    $('snapshot').textContent = 'v' + data.registry.snapshotVersion +
      (data.registry.lastError ? ' \u2013 storage error: ' + data.registry.lastError : '');
    $('instance').textContent = 'instance ' + data.health.prober.id;
    renderRoutes(data.routes);
    renderRejected(data.rejected);
    renderPools(data.health.pools);
    renderRateLimits(data.rateLimits);
    status('Updated ' + new Date(data.generatedAt).toLocaleTimeString() + (paused ? ' (paused)' : ''), false);
  }

  function status(text, error) {
    const updated = $('updated');
    updated.textContent = text;
    updated.classList.toggle('error', error);
  }

  function showLogin(message) {
    clearTimeout(timer);
    $('main').hidden = true;
    $('pause').hidden = true;
    $('forget').hidden = true;
    $('login').hidden = false;
    $('login-message').textContent = message;
    $('key').focus();
  }

  function showMain() {
    $('login').hidden = true;
    $('main').hidden = false;
    $('pause').hidden = false;
    $('forget').hidden = false;
  }

  function schedule() {
    clearTimeout(timer);
    if (!paused) timer = setTimeout(refresh, REFRESH_MS);
  }

  async function refresh() {
    const key = adminKey;
    if (!key) {
      showLogin('');
      return;
    }

    let response;
    try {
      response = await fetch(DATA_URL, { headers: { 'X-Admin-Key': key }, cache: 'no-store', credentials: 'omit' });
    } catch (error) {
      status('The gateway did not answer: ' + error.message, true);
      schedule();
      return;
    }

    if (response.status === 401) {
      adminKey = null;
      showLogin('The admin key was refused.');
      return;
    }

    if (!response.ok) {
      status('The gateway answered ' + response.status + '.', true);
      schedule();
      return;
    }

    showMain();
    render(await response.json());
    schedule();
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('key-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $('key');
      adminKey = input.value;
      input.value = '';
      refresh();
    });
    $('forget').addEventListener('click', () => {
      adminKey = null;
      showLogin('');
    });
    $('pause').addEventListener('click', () => {
      paused = !paused;
      $('pause').textContent = paused ? 'Resume' : 'Pause';
      if (paused) clearTimeout(timer); else refresh();
    });
    refresh();
  });
})();
