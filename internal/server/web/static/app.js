// cruise web UI. Progressive enhancement only: every page works without
// this file (forms post, links navigate). It adds the theme toggle,
// keyboard shortcuts, the rollback confirmation dialog, instant search on
// the overview and live updates over Server-Sent Events.
//
// The server's CSP allows no inline script or style, so all behaviour is
// attached here by selectors and data attributes, and all text coming from
// events is set with textContent, never parsed as HTML. The one exception
// is #live, replaced with HTML that the server rendered and escaped.
'use strict';
(() => {
  const doc = document;
  const root = doc.documentElement;
  const page = doc.querySelector('[data-page]');
  const kind = page ? page.dataset.page : '';

  // ---- Theme: data-theme on <html> overrides prefers-color-scheme. ----
  const THEME_KEY = 'cruise-theme';
  const darkQuery = matchMedia('(prefers-color-scheme: dark)');
  const isDark = () => (root.dataset.theme || (darkQuery.matches ? 'dark' : 'light')) === 'dark';
  const toggle = doc.getElementById('theme-toggle');
  if (toggle) {
    const show = () => toggle.setAttribute('aria-pressed', String(isDark()));
    toggle.hidden = false; // useless without script, so the markup hides it
    show();
    darkQuery.addEventListener('change', show);
    toggle.addEventListener('click', () => {
      const next = isDark() ? 'light' : 'dark';
      root.dataset.theme = next;
      try {
        localStorage.setItem(THEME_KEY, next);
      } catch {
        // Not persisted; the choice still holds for this page.
      }
      show();
    });
  }

  // ---- Helpers mirroring funcs.go, for rows updated in place. ----
  const cls = (v) => (v ? v.toLowerCase().replace(/[^a-z]/g, '') : 'none');
  const readyText = (v) => ({ True: 'Ready', False: 'Not ready', '': '—' })[v || ''] ?? v;
  const short = (rev) => {
    if (!rev) return '';
    const i = rev.lastIndexOf('sha1:');
    const commit = i >= 0 ? rev.slice(i + 5) : /^[0-9a-f]{7,}$/.test(rev) ? rev : '';
    return commit ? commit.slice(0, 7) : rev;
  };
  const setBadge = (el, prefix, value, text) => {
    if (!el) return;
    el.className = 'badge ' + prefix + cls(value);
    el.textContent = text;
  };
  const typing = (el) =>
    el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName));

  // Times come rendered as "12s ago" counted from the server's clock, with
  // the exact UTC time as the title. Count from the reader's clock instead,
  // keep counting while the page is open, and show the exact time in the
  // reader's zone. ago() is funcs.go's ago(); keep the two alike.
  const ago = (ms) => {
    const s = Math.floor(ms / 1000);
    if (s < 1) return 'just now';
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s ago`;
    if (s < 48 * 3600) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
    return `${Math.floor(s / 86400)}d ago`;
  };
  const exactFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'long' });
  const times = (scope) => {
    const out = [];
    for (const t of scope.querySelectorAll('time[datetime]')) {
      const d = new Date(t.dateTime);
      if (!Number.isNaN(d.getTime())) out.push([t, d]);
    }
    return out;
  };
  const tick = (list) => {
    const now = Date.now();
    for (const [t, d] of list) {
      const text = ago(now - d.getTime());
      if (t.textContent !== text) t.textContent = text;
    }
  };
  let shownTimes = [];
  const localizeTimes = (scope) => {
    const found = times(scope);
    for (const [t, d] of found) t.title = exactFormat.format(d);
    shownTimes = shownTimes.filter(([t]) => t.isConnected).concat(found);
    tick(found);
  };
  localizeTimes(doc);
  // Once a second while seconds show; hidden pages skip the work.
  setInterval(() => {
    if (!doc.hidden && shownTimes.length) tick(shownTimes);
  }, 1000);

  // A message with full revisions ("main@sha1:<40 hex>") shown short, the
  // full one on hover: funcs.go's spans(), for texts set here.
  const revisionRE = /(?:[^\s"'()<>,;]*@)?sha1:[0-9a-f]{40}\b/g;
  const setMessage = (el, msg) => {
    const nodes = [];
    let last = 0;
    for (const m of (msg || '').matchAll(revisionRE)) {
      if (m.index > last) nodes.push(msg.slice(last, m.index));
      const abbr = doc.createElement('abbr');
      abbr.className = 'rev';
      abbr.title = m[0];
      abbr.textContent = m[0].slice(0, m[0].length - 40 + 12);
      nodes.push(abbr);
      last = m.index + m[0].length;
    }
    if (last < (msg || '').length) nodes.push(msg.slice(last));
    el.replaceChildren(...nodes);
  };

  const statusEl = doc.querySelector('[data-live-status]');
  const setStatus = (text) => {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.hidden = !text;
  };

  // ---- Confirmation dialog for forms with data-confirm (rollback). ----
  // Without script the hidden "confirm" field stays empty and the server
  // refuses the rollback, so no path skips the question.
  const dialog = doc.getElementById('confirm-dialog');
  let pendingForm = null;
  let afterDialog = () => {};
  const confirmed = (form) => {
    const field = form.elements.namedItem('confirm');
    field.value = 'yes';
    form.submit(); // builds the form data now, and fires no submit event
    field.value = ''; // so a page restored from the back/forward cache asks again
  };
  doc.addEventListener('submit', (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (!form.elements.namedItem('confirm')) return;
    e.preventDefault();
    if (!dialog || typeof dialog.showModal !== 'function') {
      if (window.confirm(form.dataset.confirm)) confirmed(form);
      return;
    }
    pendingForm = form;
    doc.getElementById('confirm-text').textContent = form.dataset.confirm;
    dialog.returnValue = '';
    dialog.showModal(); // Escape closes it natively, with returnValue ''
  });
  if (dialog) {
    dialog.addEventListener('close', () => {
      const form = pendingForm;
      pendingForm = null;
      if (form && dialog.returnValue === 'yes') confirmed(form);
      else afterDialog();
    });
  }

  // ---- Server-Sent Events. ----
  const watchURL = (namespace, name) => {
    const q = new URLSearchParams();
    if (namespace) q.set('namespace', namespace);
    if (name) q.set('name', name);
    const s = q.toString();
    return '/api/v1/watch/applications' + (s ? '?' + s : '');
  };

  // watch keeps one EventSource open while the page is shown. It is closed
  // on pagehide so the page can enter the back/forward cache, and reopened
  // if the page comes back from it. onReconnect runs when the stream is up
  // again after a drop, as events may have been missed meanwhile.
  const watch = (url, onEvent, onReconnect) => {
    let es = null;
    let dropped = false;
    const open = () => {
      es = new EventSource(url);
      for (const type of ['ADDED', 'MODIFIED', 'DELETED']) {
        es.addEventListener(type, (e) => {
          let ev;
          try {
            ev = JSON.parse(e.data);
          } catch {
            return;
          }
          if (ev && ev.application) onEvent(type, ev.application);
        });
      }
      es.addEventListener('open', () => {
        setStatus('');
        if (dropped) onReconnect();
        dropped = false;
      });
      es.addEventListener('error', () => {
        dropped = true;
        // EventSource retries by itself unless the server refused it
        // (an expired session answers 401, which closes the stream).
        setStatus(es.readyState === EventSource.CLOSED
          ? 'Live updates stopped; reload the page.'
          : 'Live updates interrupted; reconnecting…');
      });
    };
    open();
    addEventListener('pagehide', () => {
      if (es) es.close();
      es = null;
    });
    addEventListener('pageshow', (e) => {
      if (e.persisted && !es) {
        dropped = true;
        open();
      }
    });
  };

  // ---- Overview. ----
  let rowKeys = null;
  if (kind === 'overview') {
    const table = doc.getElementById('apps');
    const rows = table ? Array.from(table.tBodies[0].rows) : [];
    const byKey = new Map(rows.map((r) => [r.dataset.key, r]));
    // Columns are found by their header's data-col, so the markup can
    // change order without touching this file.
    const col = {};
    if (table) for (const th of table.tHead.querySelectorAll('th[data-col]')) col[th.dataset.col] = th.cellIndex;

    const update = (row, a) => {
      const c = row.cells;
      setBadge(c[col.sync]?.querySelector('.badge'), 'b-', a.sync, a.sync || '—');
      setBadge(c[col.health]?.querySelector('.badge'), 'b-', a.health, a.health || '—');
      const ready = c[col.ready];
      if (ready) {
        setBadge(ready.querySelector('.badge'), 'r-', a.ready, readyText(a.ready));
        const msg = ready.querySelector('.msg');
        if (msg) setMessage(msg, a.message);
      }
      const rev = c[col.revision]?.querySelector('code');
      if (rev) {
        rev.textContent = short(a.revision);
        rev.title = a.revision || '';
      }
      if (c[col.count]) c[col.count].textContent = String(a.resourceCount ?? '');
      const susp = c[col.suspended];
      if (susp) {
        susp.replaceChildren();
        if (a.suspended) {
          const tag = doc.createElement('span');
          tag.className = 'tag';
          tag.textContent = 'Suspended';
          susp.append(tag);
        }
      }
      row.classList.remove('gone');
    };
    if (rows.length) {
      watch(watchURL(page.dataset.watchNs, ''), (type, a) => {
        const row = byKey.get(a.namespace + '/' + a.name);
        if (!row) return; // not on this page; the list is not re-sorted live
        if (type === 'DELETED') row.classList.add('gone');
        else update(row, a);
      }, () => setStatus('Reconnected; reload to see changes made while disconnected.'));
    }

    // Instant search narrows the rows of this page; submitting the form
    // still searches on the server across all pages.
    const search = doc.getElementById('q');
    const shown = doc.getElementById('shown');
    const shownText = shown ? shown.textContent : '';
    let frame = 0;
    if (search) {
      search.addEventListener('input', () => {
        cancelAnimationFrame(frame);
        frame = requestAnimationFrame(() => {
          const q = search.value.trim().toLowerCase();
          let n = 0;
          for (const r of rows) {
            const hit = !q || r.dataset.key.toLowerCase().includes(q);
            r.hidden = !hit;
            if (hit) n++;
          }
          if (shown) shown.textContent = q ? `${n} of ${rows.length} on this page match “${search.value.trim()}”` : shownText;
        });
      });
      search.addEventListener('keydown', (e) => {
        if (e.key === 'Escape' && search.value === '') search.blur();
      });
    }

    // j/k move a highlighted row; the row's link takes focus, so Enter
    // opens it natively and the focus ring shows where we are.
    let selected = null;
    rowKeys = (e) => {
      if (e.key === 'Enter') {
        if (selected && !selected.hidden && doc.activeElement === doc.body) {
          e.preventDefault();
          location.href = selected.querySelector('a').href;
        }
        return;
      }
      if (e.key !== 'j' && e.key !== 'k') return;
      const visible = rows.filter((r) => !r.hidden);
      if (!visible.length) return;
      e.preventDefault();
      let i = selected ? visible.indexOf(selected) : -1;
      i = e.key === 'j' ? Math.min(i + 1, visible.length - 1) : Math.max(i - 1, 0);
      if (selected) selected.classList.remove('sel');
      selected = visible[i];
      selected.classList.add('sel');
      selected.querySelector('a').focus({ preventScroll: true });
      selected.scrollIntoView({ block: 'nearest' });
    };
  }

  // ---- Application page: swap #live on changes to this application. ----
  if (kind === 'app') {
    const live = doc.getElementById('live');
    const ns = page.dataset.watchNs;
    const name = page.dataset.watchName;
    const url = page.dataset.liveUrl;
    let inFlight = false;
    let queued = false;

    // Focus and the graph's scroll position survive a swap, so a keyboard
    // user on a Rollback button is not thrown back to the top.
    const focusSelector = (el) => {
      if (el.dataset.testid) {
        const rev = el.dataset.revision ? `[data-revision="${CSS.escape(el.dataset.revision)}"]` : '';
        return `[data-testid="${CSS.escape(el.dataset.testid)}"]${rev}`;
      }
      if (el.id) return '#' + CSS.escape(el.id);
      if (el.classList.contains('graph-wrap')) return '.graph-wrap';
      return null;
    };
    const swap = (html) => {
      const active = doc.activeElement;
      const sel = active && live.contains(active) ? focusSelector(active) : null;
      const wrap = live.querySelector('.graph-wrap');
      const scroll = wrap ? [wrap.scrollLeft, wrap.scrollTop] : null;
      live.innerHTML = html;
      const next = live.querySelector('.graph-wrap');
      if (next && scroll) [next.scrollLeft, next.scrollTop] = scroll;
      if (sel) live.querySelector(sel)?.focus({ preventScroll: true });
      localizeTimes(live);
    };

    // At most one fetch in flight; events arriving meanwhile coalesce into
    // one more fetch. While the dialog is open the swap waits, as it would
    // remove the form being confirmed.
    const refresh = async () => {
      if (inFlight || (dialog && dialog.open)) {
        queued = true;
        return;
      }
      inFlight = true;
      queued = false;
      try {
        const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
        if (res.redirected || res.status === 401) {
          // The session ended; the login page must not land inside #live.
          setStatus('Your session ended; reload the page to log in again.');
        } else if (res.status === 404) {
          setStatus('This application no longer exists.');
        } else if (res.ok) {
          swap(await res.text());
        }
      } catch {
        // Offline: the next event or the reconnect tries again.
      } finally {
        inFlight = false;
        if (queued) refresh();
      }
    };
    afterDialog = () => {
      if (queued) refresh();
    };

    watch(watchURL(ns, name), (type, a) => {
      if (a.namespace !== ns || a.name !== name) return;
      if (type === 'DELETED') setStatus('This application was deleted.');
      else refresh();
    }, refresh);
  }

  // ---- Keyboard shortcuts. ----
  doc.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
    if (e.key === '/') {
      const search = doc.querySelector('[data-search]');
      if (search) {
        e.preventDefault();
        search.focus();
        search.select();
      }
      return;
    }
    if (rowKeys) rowKeys(e);
  });
})();
