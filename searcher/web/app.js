/*
 * app.js - the newsdex search page.  Talks to the server's HTTP API
 * (/api/search, /api/article/ID, /api/export) and keeps the whole state
 * in the URL, so that a search can be shared and the back button works.
 *
 * Article text comes from scraped pages and is untrusted: it only ever
 * reaches the page as text nodes (textContent), never as HTML; the <b>
 * markers of a snippet are found by splitting the string and become
 * <mark> elements around text nodes.  Links are made only for http(s)
 * URLs.
 */
'use strict';

(function () {
  const PAGE = 10;          // hits a page
  const SOURCE_LIMIT = 50;  // sources listed
  const $ = (id) => document.getElementById(id);

  let state = readState();
  let seq = 0;              // the latest render; older answers are dropped
  let renders = 0;          // renders finished (for tests)
  let fromResults = false;  // the article view was opened from the results

  // ---- state <-> URL ------------------------------------------------------

  function readState() {
    const p = new URLSearchParams(location.search);
    const off = parseInt(p.get('offset') || '0', 10);
    return {
      q: p.get('q') || '',
      sources: p.getAll('source'),
      from: p.get('from') || '',
      to: p.get('to') || '',
      sort: ['newest', 'oldest'].includes(p.get('sort')) ? p.get('sort') : 'relevance',
      offset: Number.isFinite(off) && off > 0 ? off - off % PAGE : 0,
      // '' : chosen from the matches' dates (timeBy).
      by: ['day', 'month'].includes(p.get('by')) ? p.get('by') : '',
      share: p.get('view') === 'share',
      article: p.get('article') || '',
    };
  }

  function stateQuery(s) {
    const p = new URLSearchParams();
    if (s.q) p.set('q', s.q);
    s.sources.forEach((x) => p.append('source', x));
    if (s.from) p.set('from', s.from);
    if (s.to) p.set('to', s.to);
    if (s.sort !== 'relevance') p.set('sort', s.sort);
    if (s.offset) p.set('offset', String(s.offset));
    if (s.by) p.set('by', s.by);
    if (s.share) p.set('view', 'share');
    if (s.article) p.set('article', s.article);
    return p.toString();
  }

  function go(changes, replace) {
    state = Object.assign({}, state, changes);
    const qs = stateQuery(state);
    const url = '/' + (qs ? '?' + qs : '');
    if (replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    render();
  }

  window.addEventListener('popstate', () => {
    state = readState();
    render();
  });

  // ---- talking to the server ------------------------------------------------

  async function api(path, params) {
    const url = path + (params ? '?' + params.toString() : '');
    const r = await fetch(url, { headers: { Accept: 'application/json' } });
    let body;
    try {
      body = await r.json();
    } catch (e) {
      body = { ok: false, error: { code: 'internal', message: 'HTTP ' + r.status } };
    }
    return body;
  }

  function searchParams(s, opts) {
    const p = new URLSearchParams();
    p.set('q', s.q);
    if (opts.sources) s.sources.forEach((x) => p.append('source', x));
    if (opts.dates && s.from) p.set('from', s.from);
    if (opts.dates && s.to) p.set('to', s.to);
    if (opts.hits) {
      p.set('k', String(PAGE));
      p.set('offset', String(s.offset));
      if (s.sort !== 'relevance') p.set('sort', s.sort);
    } else {
      p.set('k', '0');
    }
    if (opts.facets) p.set('facets', opts.facets);
    if (/source/.test(opts.facets || '')) p.set('facet_limit', String(SOURCE_LIMIT));
    return p;
  }

  // ---- small DOM helpers (text only) -----------------------------------------

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // A snippet with its <b>..</b> markers as <mark> around text nodes.
  function highlighted(node, text) {
    let inside = false;
    for (const part of String(text).split(/(<b>|<\/b>)/)) {
      if (part === '<b>') { inside = true; continue; }
      if (part === '</b>') { inside = false; continue; }
      if (!part) continue;
      if (inside) node.appendChild(el('mark', null, part));
      else node.appendChild(document.createTextNode(part));
    }
  }

  function safeUrl(u) {
    return typeof u === 'string' && /^https?:\/\//i.test(u) ? u : null;
  }

  // Date · source · extra · a link to the original (http(s) only).
  function metaLine(date, source, url, extra) {
    const meta = el('div', 'meta');
    meta.appendChild(el('span', 'date', date || 'undated'));
    meta.appendChild(el('span', 'source', source));
    if (extra) meta.appendChild(el('span', 'extra', extra));
    const safe = safeUrl(url);
    if (safe) {
      const a = el('a', 'orig', 'original');
      a.href = safe;
      a.rel = 'noopener noreferrer nofollow';
      a.target = '_blank';
      meta.appendChild(a);
    }
    return meta;
  }

  const fmt = (n) => Number(n).toLocaleString('en-US');

  function setStatus(text, isError) {
    $('status').textContent = text;
    $('status').classList.toggle('error', !!isError);
  }

  // ---- rendering ---------------------------------------------------------------

  // "Also from SOURCE with this title: DATE, DATE": the hits collapsed
  // into h (same source, same title), each a link to its article view.
  function sameTitle(h) {
    const div = el('div', 'same-title',
      'Also from ' + (h.source || 'this source') + ' with this title: ');
    h.same_title.forEach((s, i) => {
      if (i) div.appendChild(document.createTextNode(', '));
      const a = el('a', null, s.date || 'undated');
      a.href = '/?' + stateQuery(Object.assign({}, state, { article: s.article }));
      a.title = s.article;
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        fromResults = true;
        go({ article: s.article });
      });
      div.appendChild(a);
    });
    return div;
  }

  function renderHits(res) {
    const list = $('results');
    clear(list);
    res.hits.forEach((h) => {
      const li = el('li', 'hit');
      li.dataset.article = h.article;
      const title = el('button', 'title', h.title || h.article);
      title.type = 'button';
      title.addEventListener('click', () => {
        fromResults = true;
        go({ article: h.article });
      });
      li.appendChild(title);
      li.appendChild(metaLine(h.date, h.source, h.url,
        h.matches > 1 ? h.matches + ' passages match' : null));
      const snip = el('div', 'snippet');
      highlighted(snip, h.snippet);
      li.appendChild(snip);
      if (Array.isArray(h.same_title) && h.same_title.length)
        li.appendChild(sameTitle(h));
      list.appendChild(li);
    });
    const total = res.total_exact === false ? fmt(res.total) + '+' : fmt(res.total);
    const first = state.offset + 1, last = state.offset + res.hits.length;
    if (!res.total) setStatus('No article matches.');
    else setStatus('Articles ' + fmt(first) + '–' + fmt(last) + ' of ' + total +
                   ' (' + res.took_ms.toFixed(1) + ' ms)');
    $('pager').hidden = !res.total || (state.offset === 0 && last >= res.total);
    $('prev').disabled = state.offset === 0;
    $('next').disabled = last >= res.total;
    $('page').textContent = 'page ' + (state.offset / PAGE + 1);
  }

  function renderSources(res) {
    const list = $('sources');
    clear(list);
    const buckets = (res.ok && res.facets && res.facets.source) ? res.facets.source.buckets : [];
    const shown = new Set();
    const add = (name, count) => {
      shown.add(name);
      const li = el('li');
      const label = el('label');
      const box = el('input');
      box.type = 'checkbox';
      box.checked = state.sources.includes(name);
      box.value = name;
      box.addEventListener('change', () => {
        const next = box.checked ? state.sources.concat([name])
                                 : state.sources.filter((x) => x !== name);
        go({ sources: next, offset: 0 });
      });
      label.appendChild(box);
      label.appendChild(el('span', 'name', name));
      label.appendChild(el('span', 'count', count === null ? '' : fmt(count)));
      li.appendChild(label);
      list.appendChild(li);
    };
    buckets.forEach((b) => add(b.value, b.count));
    state.sources.filter((x) => !shown.has(x)).forEach((x) => add(x, null));
    if (!buckets.length && !state.sources.length) list.appendChild(el('li', 'none', 'none'));
    $('clear-sources').hidden = !state.sources.length;
  }

  // Every month or day from the first bucket to the last, gaps as zeros.
  function fillBuckets(buckets, by) {
    if (!buckets.length) return [];
    const have = new Map(buckets.map((b) => [b.value, b]));
    const out = [];
    const parse = (v) => new Date(Date.UTC(+v.slice(0, 4), +v.slice(5, 7) - 1,
                                           by === 'day' ? +v.slice(8, 10) : 1));
    const label = (d) => d.toISOString().slice(0, by === 'day' ? 10 : 7);
    const end = parse(buckets[buckets.length - 1].value);
    for (let d = parse(buckets[0].value); d <= end && out.length < 20000;) {
      const v = label(d);
      out.push(have.get(v) || { value: v, count: 0, all: 0 });
      if (by === 'day') d = new Date(d.getTime() + 86400000);
      else d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
    }
    return out;
  }

  let drag = null; // {from, to} bar indexes while dragging

  // Months the matches may span for the timeline to show days by itself:
  // up to about 90 bars.
  const AUTO_DAY_MONTHS = 3;

  // The timeline's answer and its unit: the one asked for, else months,
  // or days (a second search) when the matches span few months.
  async function timeBy(res) {
    if (state.by || !res.ok || !res.facets || !res.facets.month) return [res, state.by || 'month'];
    const months = fillBuckets(res.facets.month.buckets, 'month');
    if (!months.length || months.length > AUTO_DAY_MONTHS) return [res, 'month'];
    return [await api('/api/search', searchParams(state, { sources: true, facets: 'day' })), 'day'];
  }

  function renderTimeline(res, by) {
    const box = $('timeline-box'), line = $('timeline');
    const facet = res.ok && res.facets ? res.facets[by] : null;
    const buckets = facet ? fillBuckets(facet.buckets, by) : [];
    clear(line);
    box.hidden = !buckets.length;
    $('by-month').classList.toggle('on', by === 'month');
    $('by-day').classList.toggle('on', by === 'day');
    $('show-counts').classList.toggle('on', !state.share);
    $('show-shares').classList.toggle('on', state.share);
    $('timeline-title').textContent = state.share
      ? 'Share of the period’s articles that match'
      : 'Matching articles per ' + by;
    if (!buckets.length) return;
    const value = (b) => state.share ? (b.all ? b.count / b.all : 0) : b.count;
    const max = Math.max.apply(null, buckets.map(value)) || 1;
    buckets.forEach((b, i) => {
      const bar = el('div', 'bar');
      bar.dataset.index = String(i);
      bar.dataset.value = b.value;
      if (!b.count) bar.classList.add('empty');
      const fill = el('div', 'fill');
      fill.style.height = (100 * value(b) / max).toFixed(2) + '%';
      bar.appendChild(fill);
      const share = b.all ? ' (' + (100 * b.count / b.all).toFixed(1) + '% of ' + fmt(b.all) + ')' : '';
      bar.title = b.value + ': ' + fmt(b.count) + ' matching' + share;
      line.appendChild(bar);
    });
    $('timeline-first').textContent = buckets[0].value;
    $('timeline-last').textContent = buckets[buckets.length - 1].value;
    markRange();
  }

  // Highlights the bars inside the chosen dates (or the drag).
  function markRange() {
    const bars = $('timeline').children;
    let lo = null, hi = null;
    if (drag) {
      lo = Math.min(drag.from, drag.to);
      hi = Math.max(drag.from, drag.to);
    }
    for (let i = 0; i < bars.length; i++) {
      const v = bars[i].dataset.value;
      const inRange = drag ? (i >= lo && i <= hi)
        : (state.from || state.to) &&
          (!state.from || v >= state.from.slice(0, v.length)) &&
          (!state.to || v <= state.to.slice(0, v.length));
      bars[i].classList.toggle('sel', !!inRange);
    }
    const r = $('range');
    clear(r);
    if (state.from || state.to) {
      r.appendChild(document.createTextNode((state.from || '…') + ' – ' + (state.to || '…') + ' '));
      const x = el('button', 'link', 'all dates');
      x.type = 'button';
      x.id = 'clear-dates';
      x.addEventListener('click', () => go({ from: '', to: '', offset: 0 }));
      r.appendChild(x);
    }
  }

  function barIndex(ev) {
    const bar = ev.target.closest && ev.target.closest('.bar');
    return bar ? +bar.dataset.index : null;
  }

  $('timeline').addEventListener('mousedown', (ev) => {
    const i = barIndex(ev);
    if (i === null) return;
    ev.preventDefault();
    drag = { from: i, to: i };
    markRange();
  });
  $('timeline').addEventListener('mouseover', (ev) => {
    const i = barIndex(ev);
    if (!drag || i === null) return;
    drag.to = i;
    markRange();
  });
  document.addEventListener('mouseup', () => {
    if (!drag) return;
    const bars = $('timeline').children;
    const lo = Math.min(drag.from, drag.to), hi = Math.max(drag.from, drag.to);
    drag = null;
    go({ from: bars[lo].dataset.value, to: bars[hi].dataset.value, offset: 0 });
  });

  async function showArticle() {
    const view = $('article');
    $('results').hidden = true;
    $('pager').hidden = true;
    $('timeline-box').hidden = true;
    $('facets').hidden = true;
    $('csv').hidden = true;
    setStatus('');
    clear(view);
    view.hidden = false;
    const my = ++seq;
    const res = await api('/api/article/' + encodeURIComponent(state.article));
    if (my !== seq) return;
    const back = el('button', 'back', '← back to the results');
    back.type = 'button';
    back.addEventListener('click', () => {
      if (fromResults) history.back();
      else go({ article: '' });
    });
    view.appendChild(back);
    if (!res.ok) {
      view.appendChild(el('p', 'error', res.error.message));
      done();
      return;
    }
    const a = res.article;
    view.appendChild(el('h1', 'title', a.title || a.id));
    view.appendChild(metaLine(a.date, a.source, a.url, a.id));
    a.passages.forEach((p) => view.appendChild(el('p', 'passage', p)));
    done();
  }

  function done() {
    renders++;
    document.body.dataset.renders = String(renders);
  }

  async function render() {
    $('q').value = state.q;
    $('sort').value = state.sort;
    if (state.article) {
      await showArticle();
      return;
    }
    fromResults = false;
    $('article').hidden = true;
    $('results').hidden = false;
    $('facets').hidden = false;
    if (!state.q) {
      clear($('results'));
      clear($('sources'));
      $('timeline-box').hidden = true;
      $('pager').hidden = true;
      $('csv').hidden = true;
      setStatus('Type a query above; the syntax help is under the box.');
      done();
      return;
    }
    const my = ++seq;
    const t0 = performance.now();
    setStatus('Searching…');
    let hits, sources, time;
    if (!state.sources.length && !state.from && !state.to) {
      // Nothing filtered: one request brings the hits and both facets.
      hits = sources = time = await api('/api/search', searchParams(state,
        { hits: true, facets: 'source,' + (state.by || 'month') }));
    } else {
      // Each facet is counted without its own filter, so that the other
      // sources and dates stay in view and can be added.
      [hits, sources, time] = await Promise.all([
        api('/api/search', searchParams(state, { hits: true, sources: true, dates: true })),
        api('/api/search', searchParams(state, { dates: true, facets: 'source' })),
        api('/api/search', searchParams(state, { sources: true, facets: state.by || 'month' })),
      ]);
    }
    let by;
    [time, by] = await timeBy(time);
    if (my !== seq) return;
    if (!hits.ok) {
      clear($('results'));
      $('pager').hidden = true;
      setStatus(hits.error.message, true);
      renderSources(sources);
      renderTimeline(time, by);
      done();
      return;
    }
    renderHits(hits);
    renderSources(sources);
    renderTimeline(time, by);
    const csv = $('csv');
    const xp = searchParams(state, { sources: true, dates: true });
    xp.delete('k');
    if (state.sort !== 'relevance') xp.set('sort', state.sort);
    csv.href = '/api/export?' + xp.toString();
    csv.hidden = !hits.total;
    document.body.dataset.renderMs = (performance.now() - t0).toFixed(1);
    done();
  }

  // ---- controls -------------------------------------------------------------------

  $('search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    go({ q: $('q').value.trim(), offset: 0, article: '' });
  });
  $('sort').addEventListener('change', () => go({ sort: $('sort').value, offset: 0 }));
  $('prev').addEventListener('click', () => go({ offset: Math.max(0, state.offset - PAGE) }));
  $('next').addEventListener('click', () => go({ offset: state.offset + PAGE }));
  $('clear-sources').addEventListener('click', () => go({ sources: [], offset: 0 }));
  $('by-month').addEventListener('click', () => go({ by: 'month' }, true));
  $('by-day').addEventListener('click', () => go({ by: 'day' }, true));
  $('show-counts').addEventListener('click', () => go({ share: false }, true));
  $('show-shares').addEventListener('click', () => go({ share: true }, true));

  render();
})();
