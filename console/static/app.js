// assign console: a single-page application over assignd's admin JSON API.
//
// Security: the admin token lives in the `token` variable of this closure
// only. It is sent as the Authorization header of API calls and is never
// written to a cookie, a URL, localStorage, sessionStorage or the console
// log. Every value from the API is put in the page with textContent or as an
// attribute value (never as HTML). The Content-Security-Policy forbids inline
// script and style; styles are set through the CSSOM only.
'use strict';
(function () {
  let token = null;          // the admin token: page memory only
  let timers = [];           // polling of the current view, stopped on navigation
  let view = 0;              // bumps on every navigation: late answers of an old view are dropped
  const main = document.getElementById('main');
  const nav = document.getElementById('nav');
  const palette = ['#1f5f8b', '#e07b24', '#2e9b5d', '#8e44ad', '#c0392b', '#16a085', '#7f8c8d', '#d4ac0d'];

  // ---- DOM helpers: elements and text only, never HTML strings ----
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }
  const SVG = 'http://www.w3.org/2000/svg';
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
  }
  function setAttrs(el, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') el.textContent = String(v);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'width%') el.style.width = Math.max(0, Math.min(100, v)) + '%';
      else if (k === 'color') el.style.backgroundColor = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }
  function show(...nodes) { clear(main); append(main, nodes); }
  function fmtInt(n) { return (n === null || n === undefined) ? '–' : Number(n).toLocaleString('en-US'); }
  function fmtNum(x, d) {
    if (x === null || x === undefined || Number.isNaN(x)) return '–';
    return Number(x).toLocaleString('en-US', { maximumFractionDigits: d === undefined ? 4 : d });
  }
  function fmtP(p) { return (p === null || p === undefined) ? '–' : p < 0.0001 ? '< 0.0001' : '= ' + fmtNum(p, 4); }
  function fmtPct(x, d) { return (x === null || x === undefined) ? '–' : (x * 100).toFixed(d === undefined ? 2 : d) + '%'; }
  function fmtTime(t) {
    if (!t) return '–';
    const d = new Date(t);
    if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 2000) return '–';
    return d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  }
  function color(i) { return palette[i % palette.length]; }
  function every(ms, fn) { const id = setInterval(fn, ms); timers.push(id); }
  function stopTimers() { timers.forEach(clearInterval); timers = []; }

  // ---- the API ----
  class APIError extends Error {
    constructor(status, code, message, field) { super(message); this.status = status; this.code = code; this.field = field || ''; }
  }
  async function api(method, path, body) {
    if (!token) throw new APIError(401, 'unauthorized', 'Sign in first.');
    const headers = { 'Authorization': 'Bearer ' + token, 'Accept': 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    let resp;
    try { resp = await fetch(path, init); } catch (e) { throw new APIError(0, 'network', 'assignd cannot be reached.'); }
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (resp.status === 401) {
      signOut('The admin token was refused: sign in again.');
      throw new APIError(401, 'unauthorized', 'The admin token was refused.');
    }
    if (!resp.ok) {
      const e = (data && data.error) || {};
      throw new APIError(resp.status, e.code || 'error', e.message || ('HTTP ' + resp.status), e.field);
    }
    return data;
  }

  // ---- sign-in ----
  function signOut(message) {
    token = null;
    stopTimers();
    view++;
    nav.hidden = true;
    signInPage(message);
  }
  function signInPage(message) {
    const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'signin-help' });
    const err = h('p', { id: 'signin-error', class: 'error', role: 'alert', text: message || '' });
    const button = h('button', { type: 'submit', class: 'primary', id: 'signin-submit', text: 'Sign in' });
    const form = h('form', { id: 'signin', novalidate: true },
      h('label', {}, h('span', { text: 'Admin token' }), input),
      h('p', { id: 'signin-help', class: 'muted small', text: 'One of assignd\'s -admin-token values (make run prints one). It stays in this tab\'s memory only: reloading the page signs you out.' }),
      err, button);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const candidate = input.value.trim();
      input.value = '';
      if (!candidate) { err.textContent = 'Enter an admin token.'; return; }
      button.disabled = true;
      err.textContent = '';
      try {
        const resp = await fetch('/api/experiments?limit=1', {
          headers: { 'Authorization': 'Bearer ' + candidate, 'Accept': 'application/json' },
          cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
        });
        if (resp.status === 401) { err.textContent = 'This admin token is not valid.'; return; }
        if (!resp.ok) { err.textContent = 'assignd answered ' + resp.status + '; try again.'; return; }
        token = candidate;
        nav.hidden = false;
        route();
      } catch (e) {
        err.textContent = 'assignd cannot be reached.';
      } finally {
        button.disabled = false;
      }
    });
    show(h('section', { class: 'card signin' }, h('h1', { text: 'Sign in to assign' }), form));
    input.focus();
  }

  // ---- routing: #/ list, #/new create, #/experiments/<id> one experiment ----
  function route() {
    stopTimers();
    view++;
    if (!token) { signInPage(); return; }
    const hash = location.hash || '#/';
    if (hash === '#/new') return createPage();
    const m = hash.match(/^#\/experiments\/(.+)$/);
    if (m) {
      let id;
      try { id = decodeURIComponent(m[1]); } catch (e) { id = m[1]; }
      return experimentPage(id);
    }
    return listPage();
  }
  window.addEventListener('hashchange', route);
  document.getElementById('sign-out').addEventListener('click', () => signOut('Signed out.'));
  function link(id) { return '#/experiments/' + encodeURIComponent(id); }

  function statusBadge(status) { return h('span', { class: 'badge ' + (status || ''), text: status || 'unknown' }); }
  // The schedule's effect (scheduled, ended) beside the status admins set.
  function effectiveBadge(e) {
    if (!e.effective_status || e.effective_status === e.status) return null;
    return h('span', { class: 'badge effective ' + e.effective_status, 'data-effective': e.effective_status, text: e.effective_status, title: 'what new users meet now (the schedule)' });
  }
  // A schedule bound for a datetime-local input (the browser's zone) and back (UTC, RFC 3339).
  function toLocalInput(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  }
  function fromLocalInput(v) {
    if (!v) return null;
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? v : d.toISOString().replace(/\.000Z$/, 'Z');
  }
  function meter(value, max, label) {
    const pct = max > 0 ? 100 * value / max : 0;
    return h('div', { class: 'meter' + (max > 0 && value >= max ? ' full' : ''), role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': max, 'aria-valuenow': value, 'aria-label': label },
      h('div', { 'width%': pct }));
  }
  function errorBanner(e) { return h('p', { class: 'banner error', role: 'alert', text: e.message }); }

  // ---- the experiments list ----
  const listState = { sort: 'created_at', order: 'desc', offset: 0, limit: 25, status: '', q: '' };
  const columns = [
    ['experiment_id', 'Experiment'], ['status', 'Status'], ['layer', 'Layer', 'hide-sm'], ['fill', 'Fill'],
    [null, 'Members per group', 'hide-sm'], ['created_at', 'Created', 'hide-sm'], ['updated_at', 'Updated', 'hide-sm'],
  ];
  function listPage() {
    const my = view;
    const body = h('tbody', { id: 'experiments-body' });
    const head = h('tr', {}, columns.map(([key, label, cls]) => {
      const th = h('th', { class: cls, scope: 'col' });
      if (!key) { th.textContent = label; return th; }
      if (listState.sort === key) th.setAttribute('aria-sort', listState.order === 'asc' ? 'ascending' : 'descending');
      th.appendChild(h('button', {
        type: 'button', 'data-sort': key, text: label, onclick: () => {
          if (listState.sort === key) listState.order = listState.order === 'asc' ? 'desc' : 'asc';
          else { listState.sort = key; listState.order = (key.endsWith('_at') || key === 'fill') ? 'desc' : 'asc'; }
          listState.offset = 0;
          listPage();
        },
      }));
      return th;
    }));
    const info = h('span', { id: 'page-info', class: 'muted' });
    const prev = h('button', { type: 'button', id: 'page-prev', text: '← Previous', onclick: () => { listState.offset = Math.max(0, listState.offset - listState.limit); load(); } });
    const next = h('button', { type: 'button', id: 'page-next', text: 'Next →', onclick: () => { listState.offset += listState.limit; load(); } });
    const status = h('select', { id: 'filter-status', 'aria-label': 'Status', onchange: () => { listState.status = status.value; listState.offset = 0; load(); } },
      ['', 'running', 'paused', 'stopped'].map((v) => h('option', { value: v, text: v || 'any status', selected: v === listState.status })));
    let debounce;
    const search = h('input', { type: 'search', id: 'filter-q', placeholder: 'Search id or layer', 'aria-label': 'Search', value: listState.q,
      oninput: () => { clearTimeout(debounce); debounce = setTimeout(() => { listState.q = search.value.trim(); listState.offset = 0; load(); }, 250); } });
    const msg = h('div', { id: 'list-message' });
    show(
      h('div', { class: 'toolbar' }, h('h1', { class: 'grow', text: 'Experiments' }), h('a', { href: '#/new', class: 'button primary', id: 'new-experiment', text: 'New experiment' })),
      h('div', { class: 'toolbar' }, status, search),
      msg,
      h('div', { class: 'card scroll' }, h('table', { id: 'experiments' }, h('thead', {}, head), body),
        h('div', { class: 'pager' }, prev, next, info)));

    async function load() {
      const q = new URLSearchParams({ sort: listState.sort, order: listState.order, offset: listState.offset, limit: listState.limit });
      if (listState.status) q.set('status', listState.status);
      if (listState.q) q.set('q', listState.q);
      let data;
      try { data = await api('GET', '/api/experiments?' + q.toString()); } catch (e) {
        if (my === view && e.status !== 401) { clear(msg); msg.appendChild(errorBanner(e)); }
        return;
      }
      if (my !== view) return;
      clear(msg);
      clear(body);
      if (data.experiments.length === 0) {
        body.appendChild(h('tr', {}, h('td', { colspan: columns.length, class: 'muted', text: data.total === 0 && !listState.status && !listState.q ? 'No experiment yet: create one.' : 'No experiment matches.' })));
      }
      for (const e of data.experiments) body.appendChild(listRow(e));
      const first = data.total === 0 ? 0 : data.offset + 1;
      info.textContent = fmtInt(first) + '–' + fmtInt(data.offset + data.experiments.length) + ' of ' + fmtInt(data.total);
      prev.disabled = data.offset === 0;
      next.disabled = data.offset + data.experiments.length >= data.total;
    }
    load();
    every(10000, load);
  }
  function listRow(e) {
    const st = e.stats || { enrolled: 0, per_group: {} };
    if (e.problem) {
      return h('tr', { 'data-id': e.experiment_id }, h('td', { class: 'id', text: e.experiment_id }), h('td', { colspan: columns.length - 1, class: 'error', text: e.problem }));
    }
    const groups = (e.groups || []).map((g, i) => h('li', {}, h('span', { class: 'swatch', color: color(i) }), g.group_name + ' ' + fmtInt((st.per_group || {})[g.group_name] || 0)));
    return h('tr', { 'data-id': e.experiment_id },
      h('td', { class: 'id' }, h('a', { href: link(e.experiment_id), text: e.experiment_id })),
      h('td', {}, statusBadge(e.status), effectiveBadge(e) ? [' ', effectiveBadge(e)] : null, e.winner ? [' ', h('span', { class: 'badge winner', text: 'rolled out: ' + e.winner })] : null),
      h('td', { class: 'hide-sm', text: e.layer || '–' }),
      h('td', { class: 'fill' }, meter(st.enrolled, e.maximum_sample_size, 'fill'), h('span', { class: 'small', text: fmtInt(st.enrolled) + ' / ' + fmtInt(e.maximum_sample_size) })),
      h('td', { class: 'hide-sm' }, h('ul', { class: 'groups small' }, groups)),
      h('td', { class: 'hide-sm small', text: fmtTime(e.created_at) }),
      h('td', { class: 'hide-sm small', text: fmtTime(e.updated_at) }));
  }

  // ---- API field errors shown at the field they name ----
  function clearFieldErrors(root) {
    root.querySelectorAll('.field-error').forEach((n) => n.remove());
    root.querySelectorAll('[aria-invalid="true"]').forEach((n) => n.removeAttribute('aria-invalid'));
  }
  function showFieldError(root, field, message) {
    let target = null;
    let f = field;
    while (f && !target) {
      target = root.querySelector('[data-field="' + CSS.escape(f) + '"]');
      if (target) break;
      const cut = Math.max(f.lastIndexOf('.'), f.lastIndexOf('['));
      f = cut > 0 ? f.slice(0, cut) : '';
    }
    const note = h('p', { class: 'field-error', role: 'alert', 'data-error-for': field || 'form', text: (field ? field + ': ' : '') + message });
    if (!target) { root.prepend(note); return; }
    target.setAttribute('aria-invalid', 'true');
    const holder = target.closest('label, fieldset, .row') || target;
    if (holder.tagName === 'FIELDSET') holder.insertBefore(note, holder.children[1] || null);
    else holder.after(note);
    if (target.focus) target.focus();
  }
  // A rule's operand: true, false, null and numbers typed; "quoted" or anything else text.
  function operand(text) {
    const t = text.trim();
    if (t === 'true') return true;
    if (t === 'false') return false;
    if (t !== '' && !Number.isNaN(Number(t)) && /^-?[0-9.eE+-]+$/.test(t)) return Number(t);
    if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) { try { return JSON.parse(t); } catch (e) { /* text */ } }
    return t;
  }
  function numberOrText(v) { const t = v.trim(); return t !== '' && !Number.isNaN(Number(t)) ? Number(t) : t; }

  // ---- the creation form ----
  function createPage() {
    const my = view;
    const idIn = h('input', { id: 'f-id', 'data-field': 'experiment_id', placeholder: 'generated when empty', autocomplete: 'off' });
    const capIn = h('input', { id: 'f-cap', 'data-field': 'maximum_sample_size', type: 'number', min: 1, step: 1, inputmode: 'numeric', required: true });
    const spIn = h('input', { id: 'f-sampling', 'data-field': 'sampling_probability', type: 'number', min: 0, max: 1, step: 'any', value: '1' });
    const layerIn = h('input', { id: 'f-layer', 'data-field': 'layer', placeholder: 'none', autocomplete: 'off' });
    const startIn = h('input', { id: 'f-start', 'data-field': 'start_at', type: 'datetime-local' });
    const endIn = h('input', { id: 'f-end', 'data-field': 'end_at', type: 'datetime-local' });
    const groupRows = h('div', { id: 'f-groups' });
    const sum = h('p', { id: 'f-sum', class: 'sum', 'aria-live': 'polite' });
    const ruleRows = h('div', { id: 'f-rules' });
    const form = h('form', { id: 'create', novalidate: true });
    const top = h('div', { id: 'create-errors' });

    function groupRow(name, p) {
      const i = () => Array.from(groupRows.children).indexOf(row);
      const nameIn = h('input', { class: 'g-name', 'aria-label': 'Group name', placeholder: 'group name', value: name, autocomplete: 'off' });
      const pIn = h('input', { class: 'g-p', 'aria-label': 'Probability', type: 'number', min: 0, max: 1, step: 'any', value: p, oninput: updateSum });
      const row = h('div', { class: 'row group-row' }, nameIn, pIn,
        h('button', { type: 'button', class: 'link', text: 'remove', onclick: () => { row.remove(); renumber(); updateSum(); } }));
      row.renumber = () => { nameIn.setAttribute('data-field', 'groups[' + i() + '].group_name'); pIn.setAttribute('data-field', 'groups[' + i() + '].probability_of_falling_in'); };
      return row;
    }
    function renumber() { Array.from(groupRows.children).forEach((r) => r.renumber()); Array.from(ruleRows.children).forEach((r) => r.renumber()); }
    function groups() {
      return Array.from(groupRows.children).map((r) => ({ group_name: r.querySelector('.g-name').value.trim(), probability_of_falling_in: Number(r.querySelector('.g-p').value) }));
    }
    function updateSum() {
      const total = groups().reduce((a, g) => a + (Number.isFinite(g.probability_of_falling_in) ? g.probability_of_falling_in : 0), 0);
      const ok = Math.abs(total - 1) < 1e-9;
      sum.textContent = 'Sum of the probabilities: ' + fmtNum(total, 6) + (ok ? ' ✓' : ' (must be 1)');
      sum.className = 'sum ' + (ok ? 'ok' : 'bad');
    }
    function ruleRow() {
      const i = () => Array.from(ruleRows.children).indexOf(row);
      const claim = h('input', { class: 'r-claim', 'aria-label': 'Claim', placeholder: 'claim, e.g. first_order', autocomplete: 'off' });
      const op = h('select', { class: 'r-op', 'aria-label': 'Operator' }, h('option', { value: 'equals', text: 'equals' }), h('option', { value: 'not_equals', text: 'not equals' }), h('option', { value: 'in', text: 'is one of (comma-separated)' }));
      const value = h('input', { class: 'r-value', 'aria-label': 'Value', placeholder: 'true, 42, NL', autocomplete: 'off' });
      const row = h('div', { class: 'row rule-row' }, claim, op, value, h('button', { type: 'button', class: 'link', text: 'remove', onclick: () => { row.remove(); renumber(); } }));
      row.renumber = () => { claim.setAttribute('data-field', 'eligibility[' + i() + '].claim'); value.setAttribute('data-field', 'eligibility[' + i() + '].' + op.value); row.setAttribute('data-field', 'eligibility[' + i() + ']'); };
      op.addEventListener('change', row.renumber);
      row.rule = () => {
        const r = { claim: claim.value.trim() };
        if (op.value === 'in') r.in = value.value.split(',').map(operand);
        else r[op.value] = operand(value.value);
        return r;
      };
      return row;
    }

    const planBox = planCalculator(() => ({ probabilities: groups().map((g) => g.probability_of_falling_in), sampling: Number(spIn.value) }), (n) => { capIn.value = String(n); capIn.focus(); });
    const submit = h('button', { type: 'submit', class: 'primary', id: 'f-submit', text: 'Create experiment' });
    append(form, [
      top,
      h('div', { class: 'grid' },
        h('div', { class: 'card' },
          h('label', {}, h('span', { text: 'Experiment id' }), idIn),
          h('label', {}, h('span', { text: 'Maximum sample size (the cap)' }), capIn),
          h('label', {}, h('span', { text: 'Sampling probability' }), spIn, h('span', { class: 'muted small', text: 'The share of eligible users who join, from 0 (exclusive) to 1; ramp it up later.' })),
          h('label', {}, h('span', { text: 'Layer' }), layerIn, h('span', { class: 'muted small', text: 'Experiments of one layer are mutually exclusive.' })),
          h('div', { class: 'control' },
            h('label', {}, h('span', { text: 'Starts (optional)' }), startIn),
            h('label', {}, h('span', { text: 'Ends (optional)' }), endIn)),
          h('p', { class: 'muted small', text: 'In your browser\'s time zone; new users join only between the two. Empty: from now, without an end.' })),
        h('div', { class: 'card' },
          h('fieldset', { 'data-field': 'groups' }, h('legend', { text: 'Groups (the control first)' }), groupRows, sum,
            h('button', { type: 'button', id: 'f-add-group', text: 'Add group', onclick: () => { groupRows.appendChild(groupRow('', '0')); renumber(); updateSum(); } })),
          h('fieldset', { 'data-field': 'eligibility' }, h('legend', { text: 'Eligibility (every rule must hold)' }), ruleRows,
            h('p', { class: 'muted small', text: 'Rules read the claims of the user\'s token. true, false and numbers are typed; anything else is text. No rule: everyone is eligible.' }),
            h('button', { type: 'button', id: 'f-add-rule', text: 'Add rule', onclick: () => { ruleRows.appendChild(ruleRow()); renumber(); } })))),
      planBox,
      h('div', { class: 'actions' }, submit, h('a', { href: '#/', text: 'Cancel' })),
    ]);
    groupRows.appendChild(groupRow('control', '0.5'));
    groupRows.appendChild(groupRow('treatment', '0.5'));
    renumber();
    updateSum();
    spIn.addEventListener('input', () => planBox.recompute());
    form.addEventListener('input', (ev) => { if (ev.target.classList && ev.target.classList.contains('g-p')) planBox.recompute(); });

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearFieldErrors(form);
      const body = { groups: groups(), eligibility: Array.from(ruleRows.children).map((r) => r.rule()) };
      if (idIn.value.trim()) body.experiment_id = idIn.value.trim();
      body.maximum_sample_size = capIn.value.trim() === '' ? 0 : Number(capIn.value);
      if (spIn.value.trim() !== '') body.sampling_probability = Number(spIn.value);
      if (layerIn.value.trim()) body.layer = layerIn.value.trim();
      if (startIn.value) body.start_at = fromLocalInput(startIn.value);
      if (endIn.value) body.end_at = fromLocalInput(endIn.value);
      submit.disabled = true;
      try {
        const data = await api('POST', '/api/experiment-create', body);
        if (my !== view) return;
        location.hash = link(data.experiment_id);
      } catch (e) {
        if (e.status === 401 || my !== view) return;
        showFieldError(form, e.field, e.message);
      } finally {
        submit.disabled = false;
      }
    });
    show(h('h1', { text: 'New experiment' }), form);
    idIn.focus();
  }

  // The sample-size calculator: GET /api/plan with the form's groups and
  // sampling. `use` receives a total to set as the cap.
  function planCalculator(context, use) {
    const outcome = h('select', { id: 'p-outcome', 'aria-label': 'Outcome' }, h('option', { value: 'binary', text: 'a rate (did the user convert?)' }), h('option', { value: 'numeric', text: 'a mean (how much per user?)' }));
    const baseline = h('input', { id: 'p-baseline', type: 'number', step: 'any', placeholder: 'e.g. 0.11', 'data-field': 'baseline' });
    const sd = h('input', { id: 'p-sd', type: 'number', step: 'any', placeholder: 'standard deviation', 'data-field': 'sd' });
    const effect = h('input', { id: 'p-effect', type: 'number', step: 'any', placeholder: 'e.g. 0.2', 'data-field': 'effect' });
    const relative = h('input', { id: 'p-relative', type: 'checkbox', checked: true });
    const alpha = h('input', { id: 'p-alpha', type: 'number', step: 'any', value: '0.05', 'data-field': 'alpha' });
    const power = h('input', { id: 'p-power', type: 'number', step: 'any', value: '0.8', 'data-field': 'power' });
    const out = h('div', { id: 'p-result', 'aria-live': 'polite' });
    const sdLabel = h('label', { hidden: true }, h('span', { text: 'Standard deviation' }), sd);
    const box = h('fieldset', { class: 'card', id: 'plan' },
      h('legend', { text: 'Choose the cap: the sample-size calculator' }),
      h('div', { class: 'control' },
        h('label', {}, h('span', { text: 'Outcome' }), outcome),
        h('label', {}, h('span', { text: 'Control\'s rate or mean' }), baseline),
        sdLabel,
        h('label', {}, h('span', { text: 'Smallest effect worth detecting' }), effect),
        h('label', {}, h('span', { text: 'Relative (20% = 0.2)' }), relative),
        h('label', {}, h('span', { text: 'Alpha' }), alpha),
        h('label', {}, h('span', { text: 'Power' }), power)),
      out);
    let debounce;
    let seq = 0;
    async function compute() {
      const c = context();
      const my = ++seq;
      clear(out);
      if (baseline.value.trim() === '' || effect.value.trim() === '') { out.appendChild(h('p', { class: 'muted small', text: 'Give the control\'s rate (or mean and standard deviation) and the effect to see the users needed.' })); return; }
      const q = new URLSearchParams({ outcome: outcome.value, baseline: baseline.value.trim(), effect: effect.value.trim(), relative: relative.checked ? 'true' : 'false' });
      if (outcome.value === 'numeric' && sd.value.trim() !== '') q.set('sd', sd.value.trim());
      if (alpha.value.trim() !== '') q.set('alpha', alpha.value.trim());
      if (power.value.trim() !== '') q.set('power', power.value.trim());
      const psum = c.probabilities.reduce((a, x) => a + x, 0);
      if (c.probabilities.length > 1 && c.probabilities.every(Number.isFinite) && Math.abs(psum - 1) < 1e-9) q.set('probabilities', c.probabilities.join(','));
      else if (c.probabilities.length > 1) q.set('groups', String(c.probabilities.length)); // equal groups until the probabilities sum to 1
      if (Number.isFinite(c.sampling) && c.sampling > 0) q.set('sampling_probability', String(c.sampling));
      try {
        const p = await api('GET', '/api/plan?' + q.toString());
        if (my !== seq) return;
        out.appendChild(h('p', { id: 'p-total' }, 'Users needed: ', h('strong', { text: fmtInt(p.total) }), ' enrolled (' + p.groups.map((g) => fmtInt(g.users)).join(' + ') + ' per group); ' + fmtInt(p.total_before_sampling) + ' eligible users must reach the screen with sampling ' + fmtNum(p.sampling_probability) + '.'));
        out.appendChild(h('p', { class: 'muted small', text: p.method + '; alpha ' + fmtNum(p.alpha) + ', power ' + fmtNum(p.power) + '; effect ' + fmtNum(p.effect) + ' (to ' + fmtNum(p.target) + ').' }));
        out.appendChild(h('button', { type: 'button', id: 'p-use', text: 'Use ' + fmtInt(p.total) + ' as the cap', onclick: () => use(p.total) }));
      } catch (e) {
        if (my !== seq || e.status === 401) return;
        out.appendChild(h('p', { class: 'field-error', text: (e.field ? e.field + ': ' : '') + e.message }));
      }
    }
    box.recompute = () => { clearTimeout(debounce); debounce = setTimeout(compute, 300); };
    outcome.addEventListener('change', () => { sdLabel.hidden = outcome.value !== 'numeric'; box.recompute(); });
    [baseline, sd, effect, relative, alpha, power].forEach((el) => el.addEventListener('input', box.recompute));
    compute();
    return box;
  }

  // ---- one experiment ----
  function experimentPage(id) {
    const my = view;
    const enc = encodeURIComponent(id);
    const title = h('h1', { id: 'exp-title', text: id });
    const badges = h('div', { class: 'toolbar', id: 'exp-badges' });
    const msg = h('div', { id: 'exp-message' });
    const fill = h('div', { class: 'card', id: 'fill' }, h('h2', { text: 'Fill' }));
    const actions = h('div', { class: 'card', id: 'actions' }, h('h2', { text: 'Actions' }));
    const config = h('div', { class: 'card', id: 'config' }, h('h2', { text: 'Configuration' }));
    const daily = h('div', { class: 'card', id: 'daily' }, h('h2', { text: 'Enrollments per day' }));
    const results = h('div', { class: 'card', id: 'results' }, h('h2', { text: 'Results' }));
    const history = h('div', { class: 'card', id: 'history' }, h('h2', { text: 'Change history' }));
    show(h('p', {}, h('a', { href: '#/', text: '← Experiments' })), title, badges, msg,
      h('div', { class: 'grid' }, fill, actions), results, h('div', { class: 'grid' }, daily, config), history);
    let current = null;
    let actionsVersion = -1;

    async function loadExperiment() {
      let e;
      try { e = await api('GET', '/api/experiments/' + enc); } catch (err) {
        if (my === view && err.status !== 401) { clear(msg); msg.appendChild(errorBanner(err)); }
        return;
      }
      if (my !== view) return;
      clear(msg);
      current = e;
      renderBadges(e);
      renderFill(e);
      renderConfig(e);
      if (e.version !== actionsVersion) { actionsVersion = e.version; renderActions(e); }
    }
    function renderBadges(e) {
      clear(badges);
      append(badges, [statusBadge(e.status), effectiveBadge(e), e.winner ? h('span', { class: 'badge winner', id: 'winner-badge', text: 'rolled out: ' + e.winner }) : null,
        h('span', { class: 'muted small', text: 'version ' + e.version + ', updated ' + fmtTime(e.updated_at) + (e.updated_by ? ' by ' + e.updated_by : '') })]);
    }
    function renderFill(e) {
      const st = e.stats || { enrolled: 0, remaining: e.maximum_sample_size, per_group: {} };
      clear(fill);
      const total = Math.max(1, st.enrolled);
      append(fill, [
        h('h2', { text: 'Fill' }),
        h('p', {}, h('strong', { id: 'fill-total', text: fmtInt(st.enrolled) }), ' of ' + fmtInt(e.maximum_sample_size) + ' members (' + fmtPct(e.maximum_sample_size ? st.enrolled / e.maximum_sample_size : 0, 1) + '), ' + fmtInt(st.remaining) + ' remaining'),
        meter(st.enrolled, e.maximum_sample_size, 'members of the cap'),
        h('ul', { class: 'groups', id: 'fill-groups' }, (e.groups || []).map((g, i) => {
          const n = (st.per_group || {})[g.group_name] || 0;
          return h('li', { 'data-group': g.group_name },
            h('div', {}, h('span', { class: 'swatch', color: color(i) }), h('strong', { text: g.group_name }), ' ',
              h('span', { class: 'g-count', text: fmtInt(n) }), h('span', { class: 'muted small', text: ' members, ' + fmtPct(n / total, 1) + ' (configured ' + fmtPct(g.probability_of_falling_in, 1) + ')' })),
            meter(n, e.maximum_sample_size * g.probability_of_falling_in, g.group_name));
        })),
        h('p', { class: 'muted small', text: 'Live from Redis, refreshed every 2 seconds (' + new Date().toLocaleTimeString('en-GB') + ').' }),
      ]);
    }
    function renderConfig(e) {
      clear(config);
      const rules = (e.eligibility || []).map((r) => r.claim + (r.in ? ' in ' + JSON.stringify(r.in) : r.not_equals !== undefined ? ' ≠ ' + JSON.stringify(r.not_equals) : ' = ' + JSON.stringify(r.equals)));
      const rows = [
        ['Id', e.experiment_id], ['Status', e.status], ['Cap', fmtInt(e.maximum_sample_size)], ['Sampling probability', fmtNum(e.sampling_probability)],
        ['Groups', (e.groups || []).map((g) => g.group_name + ' ' + fmtNum(g.probability_of_falling_in)).join(' / ')],
        ['Eligibility', rules.length ? rules.join(' and ') : 'everyone'], ['Layer', e.layer || 'none'], ['Rolled out', e.winner || 'no'],
        ['Schedule', (e.start_at ? 'from ' + fmtTime(e.start_at) : 'from creation') + (e.end_at ? ' until ' + fmtTime(e.end_at) : ', no end')],
        ['New users meet', e.effective_status || e.status],
        ['QA overrides', (() => {
          const o = Object.entries(e.overrides || {});
          if (!o.length) return 'none';
          return o.length + ' user' + (o.length > 1 ? 's' : '') + ' (never members): ' + o.slice(0, 5).map(([u, g]) => u + ' → ' + g).join(', ') + (o.length > 5 ? ', …' : '');
        })()],
        ['Version', String(e.version)], ['Created', fmtTime(e.created_at)], ['Updated', fmtTime(e.updated_at) + (e.updated_by ? ' by ' + e.updated_by : '')],
      ];
      append(config, [h('h2', { text: 'Configuration' }), h('dl', { class: 'config' }, rows.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]))]);
    }

    async function patch(body, done) {
      clearFieldErrors(actions);
      try {
        const e = await api('PATCH', '/api/experiments/' + enc, body);
        if (my !== view) return;
        current = e;
        actionsVersion = e.version;
        renderBadges(e); renderFill(e); renderConfig(e); renderActions(e);
        actions.prepend(h('p', { class: 'banner ok', id: 'action-done', role: 'status', text: done }));
        setTimeout(loadHistory, 1500);
      } catch (err) {
        if (err.status === 401 || my !== view) return;
        showFieldError(actions, err.field, err.message);
      }
    }
    function renderActions(e) {
      clear(actions);
      actions.appendChild(h('h2', { text: 'Actions' }));
      const statusRow = h('div', { class: 'actions' });
      if (e.status === 'running') statusRow.appendChild(h('button', { type: 'button', id: 'a-pause', text: 'Pause', onclick: () => patch({ status: 'paused' }, 'Paused: no new user joins; members keep their group.') }));
      if (e.status !== 'running') statusRow.appendChild(h('button', { type: 'button', id: 'a-resume', class: 'primary', text: 'Resume', onclick: () => patch({ status: 'running' }, 'Running: new users join again.') }));
      if (e.status !== 'stopped') {
        statusRow.appendChild(h('button', { type: 'button', id: 'a-stop', class: 'danger', text: 'Stop', onclick: () => confirmDialog('Stop ' + e.experiment_id + '?', 'No new user joins while it is stopped; members keep their group, and results switch to the fixed-horizon test.', 'You can undo it: Resume starts it again.', 'Stop', () => patch({ status: 'stopped' }, 'Stopped.')) }));
      }
      actions.appendChild(statusRow);

      const sp = h('input', { id: 'a-sampling', type: 'number', min: 0, max: 1, step: 'any', value: String(e.sampling_probability), 'data-field': 'sampling_probability' });
      actions.appendChild(h('div', { class: 'control' }, h('label', {}, h('span', { text: 'Sampling probability' }), sp),
        h('button', { type: 'button', id: 'a-ramp', text: 'Ramp', onclick: () => patch({ sampling_probability: Number(sp.value) }, 'Sampling probability set to ' + sp.value + '; users already sampled stay.') })));

      const cap = h('input', { id: 'a-cap', type: 'number', min: 1, step: 1, value: String(e.maximum_sample_size), 'data-field': 'maximum_sample_size' });
      actions.appendChild(h('div', { class: 'control' }, h('label', {}, h('span', { text: 'Cap' }), cap),
        h('button', { type: 'button', id: 'a-cap-set', text: 'Change cap', onclick: () => patch({ maximum_sample_size: Number(cap.value) }, 'Cap set to ' + cap.value + '.') })));

      const inputs = (e.groups || []).map((g, i) => h('input', { type: 'number', class: 'a-p', min: 0, max: 1, step: 'any', value: String(g.probability_of_falling_in), 'aria-label': g.group_name, 'data-field': 'groups[' + i + '].probability_of_falling_in' }));
      const sumOut = h('span', { class: 'sum small', id: 'a-sum' });
      const upd = () => { const t = inputs.reduce((a, x) => a + (Number(x.value) || 0), 0); const ok = Math.abs(t - 1) < 1e-9; sumOut.textContent = 'sum ' + fmtNum(t, 6) + (ok ? ' ✓' : ' (must be 1)'); sumOut.className = 'sum small ' + (ok ? 'ok' : 'bad'); };
      inputs.forEach((x) => x.addEventListener('input', upd));
      upd();
      actions.appendChild(h('fieldset', { 'data-field': 'groups' }, h('legend', { text: 'Group probabilities (for new users)' }),
        (e.groups || []).map((g, i) => h('label', { class: 'row' }, h('span', { text: g.group_name }), inputs[i])), sumOut, ' ',
        h('button', { type: 'button', id: 'a-groups', text: 'Change probabilities', onclick: () => patch({ groups: (e.groups || []).map((g, i) => ({ group_name: g.group_name, probability_of_falling_in: Number(inputs[i].value) })) }, 'Group probabilities changed; members keep their group.') })));

      const start = h('input', { id: 'a-start', type: 'datetime-local', value: toLocalInput(e.start_at), 'data-field': 'start_at' });
      const end = h('input', { id: 'a-end', type: 'datetime-local', value: toLocalInput(e.end_at), 'data-field': 'end_at' });
      actions.appendChild(h('div', { class: 'control' },
        h('label', {}, h('span', { text: 'Starts' }), start), h('label', {}, h('span', { text: 'Ends' }), end),
        h('button', { type: 'button', id: 'a-schedule', text: 'Change schedule', onclick: () => patch({ start_at: fromLocalInput(start.value), end_at: fromLocalInput(end.value) }, 'Schedule changed (empty fields clear a bound).') })));

      const winner = h('select', { id: 'a-winner', 'aria-label': 'Winner', 'data-field': 'winner' }, (e.groups || []).map((g) => h('option', { value: g.group_name, text: g.group_name })));
      const roll = h('div', { class: 'control', id: 'rollout' });
      if (e.winner) {
        append(roll, [h('span', {}, 'Rolled out: ', h('strong', { text: e.winner })),
          h('button', { type: 'button', id: 'a-undo-rollout', text: 'Undo the rollout', onclick: () => confirmDialog('Undo the rollout of ' + e.winner + '?', 'Every user gets their own group again (members theirs, new users a drawn one) while the experiment runs.', 'You can roll a winner out again later.', 'Undo the rollout', () => patch({ winner: '' }, 'Rollout undone.')) })]);
      } else {
        append(roll, [h('label', {}, h('span', { text: 'Roll out the winner' }), winner),
          h('button', { type: 'button', id: 'a-rollout', class: 'primary', text: 'Roll out…', onclick: () => {
            const w = winner.value;
            confirmDialog('Roll out ' + w + ' to everyone?', 'Every eligible user, new or already a member of another group, gets ' + w + ' from now on. The member records keep who was in which group, so the results stay readable.', 'You can undo it: "Undo the rollout" gives every user their own group again.', 'Roll out ' + w, () => patch({ winner: w }, w + ' is rolled out to every eligible user.'));
          } })]);
      }
      actions.appendChild(roll);
      if (document.body.dataset.demo === 'sample-users') actions.appendChild(demoControl());
    }
    // The embedded demo mode only: the demo's sample users reach this
    // experiment's screen and place their orders (what assignctl
    // demo-enroll does from a terminal).
    function demoControl() {
      const out = h('p', { class: 'muted small', id: 'demo-result' });
      const btn = h('button', { type: 'button', id: 'a-sample-users', text: 'Send the sample users', onclick: async () => {
        btn.disabled = true;
        out.textContent = 'Sending the sample users…';
        try {
          const r = await api('POST', '/api/experiments/' + enc + '/sample-users');
          if (my !== view) return;
          const enrolled = Object.values(r.enrolled || {}).reduce((a, n) => a + n, 0);
          out.textContent = fmtInt(r.users) + ' sample users reached the screen: ' + fmtInt(enrolled) + ' enrolled, ' +
            fmtInt(r.users - enrolled) + ' not (' + Object.entries(r.not_enrolled || {}).map(([k, n]) => k + ' ' + fmtInt(n)).join(', ') +
            '); they placed ' + fmtInt(r.orders) + ' orders. Results follow once the exporter has written them (a few seconds).';
          loadExperiment();
          setTimeout(() => { loadDaily(); loadResults(); }, 3000);
        } catch (err) {
          if (err.status === 401 || my !== view) return;
          out.textContent = err.message;
        } finally {
          btn.disabled = false;
        }
      } });
      return h('div', { class: 'control', id: 'demo' }, h('span', { text: 'Demo' }), btn, out);
    }

    async function loadDaily() {
      let d;
      try { d = await api('GET', '/api/experiments/' + enc + '/daily-enrollments'); } catch (err) {
        if (my === view && err.status !== 401) { clear(daily); append(daily, [h('h2', { text: 'Enrollments per day' }), h('p', { class: 'muted', text: err.message })]); }
        return;
      }
      if (my !== view) return;
      clear(daily);
      daily.appendChild(h('h2', { text: 'Enrollments per day' }));
      const names = current ? current.groups.map((g) => g.group_name) : [];
      d.days.forEach((day) => Object.keys(day.per_group).forEach((g) => { if (!names.includes(g)) names.push(g); }));
      if (d.days.length === 0) { daily.appendChild(h('p', { class: 'muted', id: 'daily-empty', text: 'No enrollment in the warehouse yet (the exporter writes them within seconds).' })); return; }
      daily.appendChild(dailyChart(d.days, names));
      daily.appendChild(h('p', { class: 'small' }, names.map((g, i) => h('span', {}, h('span', { class: 'swatch', color: color(i) }), g + ' '))));
    }

    async function loadHistory() {
      let d;
      try { d = await api('GET', '/api/experiments/' + enc + '/changes'); } catch (err) {
        if (my === view && err.status !== 401) { clear(history); append(history, [h('h2', { text: 'Change history' }), h('p', { class: 'muted', text: err.message })]); }
        return;
      }
      if (my !== view) return;
      clear(history);
      history.appendChild(h('h2', { text: 'Change history' }));
      if (d.changes.length === 0) { history.appendChild(h('p', { class: 'muted', text: 'The warehouse has no history of this experiment yet.' })); return; }
      const rows = d.changes.slice().reverse().map((c) => h('tr', { 'data-version': c.version },
        h('td', { text: 'v' + c.version }), h('td', { class: 'small', text: fmtTime(c.changed_at) }), h('td', { text: c.changed_by }),
        h('td', {}, h('ul', {}, c.what.map((w) => h('li', { text: w }))))));
      history.appendChild(h('div', { class: 'scroll' }, h('table', { class: 'history', id: 'history-table' },
        h('thead', {}, h('tr', {}, ['Version', 'When', 'Who', 'What'].map((t) => h('th', { scope: 'col', text: t })))), h('tbody', {}, rows))));
    }

    async function loadResults() {
      const refresh = h('button', { type: 'button', id: 'results-refresh', text: 'Refresh', onclick: loadResults });
      let r;
      try { r = await api('GET', '/api/experiments/' + enc + '/results'); resultsMissing = false; } catch (err) {
        resultsMissing = err.status === 404;
        if (my === view && err.status !== 401) { clear(results); append(results, [h('div', { class: 'toolbar' }, h('h2', { class: 'grow', text: 'Results' }), refresh), h('p', { class: 'muted', id: 'results-unavailable', text: err.message })]); }
        return;
      }
      if (my !== view) return;
      clear(results);
      append(results, [h('div', { class: 'toolbar' }, h('h2', { class: 'grow', text: 'Results' }), refresh), renderResults(r)]);
    }

    let resultsMissing = false;
    loadExperiment().then(() => { loadDaily(); loadResults(); });
    // Until the warehouse has the experiment, ask again (the exporter writes it within seconds).
    every(10000, () => { if (resultsMissing) loadResults(); });
    loadHistory();
    every(2000, loadExperiment);
    every(10000, loadDaily);
    every(10000, loadHistory);
  }

  // ---- results ----
  function renderResults(r) {
    const metrics = r.metrics || [r];
    const root = h('div', { id: 'results-body' });
    const first = metrics.find((m) => m.srm) || metrics[0] || {};
    const srm = r.srm || first.srm;
    const head = [];
    if (r.correction) head.push('correction across the goal metrics: ' + r.correction + (r.goal_comparisons ? ' (' + r.goal_comparisons + ' comparisons)' : ''));
    if (first.method) head.push('method: ' + first.method + (first.method === 'sequential' ? ' (always valid: look as often as you like)' : ' (fixed horizon)'));
    if (first.status) head.push('status ' + first.status);
    if (first.runtime_seconds) head.push('runtime ' + (first.runtime_seconds / 86400).toFixed(1) + ' days');
    if (head.length) root.appendChild(h('p', { class: 'muted small', text: head.join(' · ') }));
    if (srm) {
      root.appendChild(h('p', { id: 'srm', class: 'banner ' + (srm.mismatch ? 'error' : 'ok') },
        h('strong', { text: 'Sample ratio check: ' }),
        srm.mismatch ? 'mismatch' : 'no evidence of mismatch',
        ' (chi-square ' + fmtNum(srm.chi_square, 3) + ', df ' + srm.df + ', p ' + fmtP(srm.p_value) + ')' + (srm.warning ? '. ' + srm.warning : '')));
    }
    for (const m of metrics) root.appendChild(renderMetric(m));
    const warnings = [].concat(r.warnings || []);
    if (warnings.length) root.appendChild(h('ul', { class: 'warnings' }, warnings.map((w) => h('li', { text: w }))));
    return root;
  }
  function renderMetric(m) {
    const meta = m.metric || {};
    const name = meta.name || m.outcome_column || 'outcome';
    const binary = m.outcome === 'binary';
    const seq = m.method === 'sequential';
    const box = h('section', { class: 'metric', 'data-metric': name });
    box.appendChild(h('h3', {}, name, meta.role ? h('span', { class: 'muted small', text: ' · ' + meta.role + (meta.direction ? ', ' + meta.direction + ' is better' : '') }) : null));
    if (meta.description) box.appendChild(h('p', { class: 'muted', text: meta.description }));
    if (m.error) { box.appendChild(h('p', { class: 'banner error', text: 'This metric could not be analysed: ' + m.error })); return box; }
    if (m.harmed) box.appendChild(h('p', { class: 'banner error', text: 'Guardrail harmed: a significant change in the wrong direction.' }));
    if (m.peeking_warning) box.appendChild(h('p', { class: 'banner warn', text: m.peeking_warning }));
    const groupRows = (m.groups || []).map((g) => h('tr', {},
      h('td', {}, g.name, g.control ? h('span', { class: 'muted small', text: ' (control)' }) : null),
      h('td', { text: fmtInt(g.n) }), h('td', { class: 'hide-sm', text: fmtNum(g.expected_n, 1) }),
      h('td', { text: binary ? fmtPct(g.rate) + ' (' + fmtInt(g.conversions) + ')' : fmtNum(g.mean, 3) + ' ± ' + fmtNum(g.sd, 3) })));
    box.appendChild(h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {}, ['Group', 'Users', 'Expected', binary ? 'Rate (conversions)' : 'Mean ± sd'].map((t, i) => h('th', { class: i === 2 ? 'hide-sm' : null, text: t })))), h('tbody', {}, groupRows))));
    const comps = m.comparisons || [];
    if (comps.length) box.appendChild(ciChart(comps, binary, seq, m.confidence_level));
    for (const c of comps) {
      const ci = seq && c.sequential ? c.sequential.ci : c.difference_ci;
      const p = seq && c.sequential ? c.sequential.p_value : c.p_value;
      const adj = seq && c.sequential ? c.sequential.adjusted_p_value : c.adjusted_p_value;
      const cls = c.significant ? (verdictGood(c, meta) ? 'win' : 'lose') : '';
      box.appendChild(h('p', { class: 'small' }, c.group + ' vs ' + c.control + ': ' + diffText(c.difference, binary) + ', ' + Math.round((m.confidence_level || 0.95) * 100) + '% ' + (seq ? 'CS' : 'CI') + ' [' + diffText(ci.lower, binary) + ', ' + diffText(ci.upper, binary) + '], lift ' + fmtPct(c.relative_lift, 1) + ', ' + (seq ? 'always-valid ' : '') + 'p ' + fmtP(p) + (adj !== p && adj !== null && adj !== undefined ? ', adjusted p ' + fmtP(adj) : '')));
      box.appendChild(h('p', { class: 'verdict ' + cls, 'data-verdict': c.group, text: c.verdict || c.note || '' }));
    }
    const warns = (m.warnings || []).filter((w) => w !== m.peeking_warning);
    if (warns.length) box.appendChild(h('ul', { class: 'warnings' }, warns.map((w) => h('li', { text: w }))));
    return box;
  }
  function verdictGood(c, meta) { const lower = meta.direction === 'lower'; return lower ? c.difference < 0 : c.difference > 0; }
  function diffText(x, binary) {
    if (x === null || x === undefined) return '–';
    return binary ? (x >= 0 ? '+' : '') + (x * 100).toFixed(2) + ' pp' : (x >= 0 ? '+' : '') + fmtNum(x, 3);
  }
  // The difference of each group from the control with its interval, on one axis around 0.
  function ciChart(comps, binary, seq, level) {
    const W = 560, rowH = 34, top = 24, left = 120, right = 20;
    const H = top + rowH * comps.length + 18;
    const vals = [0];
    comps.forEach((c) => { const ci = seq && c.sequential ? c.sequential.ci : c.difference_ci; [c.difference, ci.lower, ci.upper].forEach((v) => { if (v !== null && v !== undefined && Number.isFinite(v)) vals.push(v); }); });
    let lo = Math.min(...vals), hi = Math.max(...vals);
    const pad = (hi - lo) * 0.1 || 0.01; lo -= pad; hi += pad;
    const x = (v) => left + (W - left - right) * (v - lo) / (hi - lo);
    const svg = s('svg', { class: 'chart ci', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'Difference from the control with its ' + Math.round((level || 0.95) * 100) + '% interval' });
    svg.appendChild(s('line', { class: 'zero', x1: x(0), x2: x(0), y1: top - 8, y2: H - 14 }));
    svg.appendChild(s('text', { x: x(0), y: 12, 'text-anchor': 'middle', text: 'no difference' }));
    [lo, hi].forEach((v, i) => svg.appendChild(s('text', { x: x(v), y: H - 2, 'text-anchor': i ? 'end' : 'start', text: diffText(v, binary) })));
    comps.forEach((c, i) => {
      const ci = seq && c.sequential ? c.sequential.ci : c.difference_ci;
      const y = top + rowH * i + rowH / 2;
      const colour = c.significant ? (c.difference > 0 ? '#1a7f37' : '#c62828') : '#5d6b7e';
      svg.appendChild(s('text', { x: 4, y: y + 4, text: c.group }));
      if ([ci.lower, ci.upper, c.difference].every((v) => v !== null && v !== undefined && Number.isFinite(v))) {
        svg.appendChild(s('line', { x1: x(ci.lower), x2: x(ci.upper), y1: y, y2: y, stroke: colour, 'stroke-width': 3, class: 'ci-line', 'data-group': c.group }));
        svg.appendChild(s('line', { x1: x(ci.lower), x2: x(ci.lower), y1: y - 6, y2: y + 6, stroke: colour, 'stroke-width': 2 }));
        svg.appendChild(s('line', { x1: x(ci.upper), x2: x(ci.upper), y1: y - 6, y2: y + 6, stroke: colour, 'stroke-width': 2 }));
        svg.appendChild(s('circle', { cx: x(c.difference), cy: y, r: 5, fill: colour }));
      } else {
        svg.appendChild(s('text', { x: left, y: y + 4, text: 'not computable yet' }));
      }
    });
    return svg;
  }
  // Stacked bars: enrollments per day and group.
  function dailyChart(days, names) {
    const W = 560, H = 220, left = 40, bottom = 28, top = 10, right = 8;
    const totals = days.map((d) => names.reduce((a, g) => a + (d.per_group[g] || 0), 0));
    const max = Math.max(1, ...totals);
    const bw = (W - left - right) / days.length;
    const y = (v) => H - bottom - (H - bottom - top) * v / max;
    const svg = s('svg', { class: 'chart daily', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'Enrollments per day' });
    svg.appendChild(s('line', { class: 'axis', x1: left, x2: W - right, y1: H - bottom, y2: H - bottom }));
    [0, max].forEach((v) => svg.appendChild(s('text', { x: left - 4, y: y(v) + 4, 'text-anchor': 'end', text: fmtInt(v) })));
    days.forEach((d, i) => {
      let acc = 0;
      names.forEach((g, gi) => {
        const n = d.per_group[g] || 0;
        if (!n) return;
        const r = s('rect', { x: left + i * bw + (bw - Math.max(1, Math.min(48, bw * 0.8))) / 2, width: Math.max(1, Math.min(48, bw * 0.8)), y: y(acc + n), height: y(acc) - y(acc + n), fill: color(gi), 'data-day': d.day, 'data-group': g });
        r.appendChild(s('title', { text: d.day + ' ' + g + ': ' + n }));
        svg.appendChild(r);
        acc += n;
      });
    });
    const step = Math.max(1, Math.ceil(days.length / 6));
    days.forEach((d, i) => { if (i % step === 0 || i === days.length - 1) svg.appendChild(s('text', { x: left + i * bw + bw / 2, y: H - 10, 'text-anchor': 'middle', text: d.day.slice(5) })); });
    return svg;
  }

  // ---- the confirmation dialog ----
  const dialog = document.getElementById('confirm');
  let onConfirm = null;
  function confirmDialog(title, what, undo, okText, fn) {
    document.getElementById('confirm-title').textContent = title;
    document.getElementById('confirm-text').textContent = what;
    document.getElementById('confirm-undo').textContent = undo;
    document.getElementById('confirm-ok').textContent = okText;
    onConfirm = fn;
    dialog.showModal();
  }
  document.getElementById('confirm-cancel').addEventListener('click', () => { onConfirm = null; dialog.close(); });
  document.getElementById('confirm-ok').addEventListener('click', () => { const fn = onConfirm; onConfirm = null; dialog.close(); if (fn) fn(); });

  route();
})();
