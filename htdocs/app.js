/*
 * The trader page: plain JavaScript against /v1/trader/* and /v1/markets
 * (docs/trader.md). No framework, no build step, no inline code (the page runs
 * under Content-Security-Policy: default-src 'self').
 *
 * Rules kept throughout:
 * - API data reaches the DOM only through textContent and DOM building.
 * - Money, prices and quantities are the server's decimal strings, shown as
 *   given. The only arithmetic on them is integer checking of the ticket's
 *   input format (at most 4 decimals, price on the tick).
 * - Every POST carries X-CSRF-Token (from /v1/trader/me) and
 *   Content-Type: application/json.
 */
'use strict';

(function () {
  var REFRESH_MS = 2000;         // account, orders, fills, quotes while visible
  var ME_REFRESH_MS = 15000;     // profile, account list, personal wallet
  var ORDER_PAGES = 5;           // open orders are looked for in the newest 5 x 100 orders
  var MARKETS_PAGE = 20;
  var FILLS_PAGE = 50;

  var state = {
    signedIn: false,
    csrf: '',
    me: null,
    accountId: null,
    account: null,             // last GET /v1/trader/accounts/{id}
    openOrders: [],
    ordersTruncated: false,
    fills: [],
    fillsCursor: null,
    selected: null,            // {market_id, token_id, outcome, question, tick_size}
    markets: [],
    marketsQuery: '',
    marketsCursor: null,
    marketsGen: 0,
    marketsLoaded: false,
    marketsById: new Map(),    // market_id -> market (null: not tradable / unknown)
    lookups: new Map(),        // market_id -> pending promise
    timer: 0,
    refreshing: false,
    again: false,
    lastMe: 0,
    lastRefreshError: '',
    placing: false,
    accountsKey: ''
  };

  function $(id) { return document.getElementById(id); }

  // ---------------------------------------------------------------- DOM helpers

  // el('td', {className: 'num'}, 'text', childNode, ...): text children become
  // text nodes, never markup.
  function el(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        if (k === 'className') node.className = props[k];
        else if (k === 'dataset') Object.assign(node.dataset, props[k]);
        else if (k.indexOf('aria-') === 0 || k === 'role' || k === 'scope' || k === 'type' ||
                 k === 'datetime' || k === 'title') node.setAttribute(k, props[k]);
        else node[k] = props[k];
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return node;
  }

  // A cell of the account tables; LABEL is shown before the value on phones.
  function cell(label, cls) {
    var td = el('td', { className: cls || '' });
    if (label) td.dataset.label = label;
    return td;
  }

  function setText(node, text) {
    text = text === null || text === undefined ? '' : String(text);
    if (node.textContent !== text) node.textContent = text;
  }

  function show(node, visible) { node.hidden = !visible; }

  function dash(v) { return v === null || v === undefined || v === '' ? '—' : String(v); }

  // Sign class from the decimal string itself (no float conversion).
  function signClass(s) {
    if (typeof s !== 'string') return '';
    if (s.charAt(0) === '-' && /[1-9]/.test(s)) return 'neg';
    if (/[1-9]/.test(s)) return 'pos';
    return '';
  }

  function fmtTime(iso) {
    if (!iso) return '—';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    return d.toLocaleString(undefined, {
      month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit'
    });
  }

  function timeEl(iso) {
    return el('time', { datetime: String(iso || ''), title: String(iso || '') }, fmtTime(iso));
  }

  function shortId(id) {
    id = String(id || '');
    return id.length > 14 ? id.slice(0, 8) + '…' + id.slice(-4) : id;
  }

  // "0.0100" -> "0.01" (string only: the tick is displayed, not computed with)
  function trimZeros(s) {
    s = String(s || '');
    return s.indexOf('.') >= 0 ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
  }

  // Keeps the rows of TBODY in the order of ITEMS, reusing the row of each key
  // so that a focused button survives a refresh. Stale rows go first, so rows
  // that stay are never moved (moving a node would drop its focus).
  function syncRows(tbody, items, key, create, update) {
    var wanted = new Map();
    items.forEach(function (it) { wanted.set(String(key(it)), it); });
    var existing = new Map();
    Array.prototype.slice.call(tbody.children).forEach(function (row) {
      if (wanted.has(row.dataset.key)) existing.set(row.dataset.key, row);
      else row.remove();
    });
    items.forEach(function (it, i) {
      var k = String(key(it));
      var row = existing.get(k);
      if (!row) {
        row = create(it);
        row.dataset.key = k;
      }
      update(row, it);
      var at = tbody.children[i];
      if (at !== row) tbody.insertBefore(row, at || null);
    });
  }

  // ---------------------------------------------------------------- messages

  function say(text) {
    setText($('status'), text);
  }

  function errorText(err) {
    return err && err.message ? err.message : 'Something went wrong.';
  }

  // The API's message, then its code in small print.
  function showErrorIn(node, prefix, err) {
    node.textContent = '';
    node.appendChild(document.createTextNode((prefix ? prefix + ': ' : '') + errorText(err)));
    if (err && err.code) {
      node.appendChild(document.createTextNode(' '));
      node.appendChild(el('span', { className: 'code' }, '(' + err.code + ')'));
    }
  }

  function showError(prefix, err) { showErrorIn($('error'), prefix, err); }
  function clearError() { setText($('error'), ''); }

  // ---------------------------------------------------------------- API

  function ApiError(status, code, message) {
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.message = message;
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.constructor = ApiError;

  function api(method, path, body) {
    var opts = {
      method: method,
      credentials: 'same-origin',
      cache: 'no-store',
      // The page is served with Referrer-Policy: no-referrer, under which the
      // Fetch standard sends "Origin: null" on POSTs (Chromium's form posts do);
      // the server refuses a foreign Origin, so name ours (same-origin only).
      referrerPolicy: 'same-origin',
      headers: { 'Accept': 'application/json' }
    };
    if (method === 'POST') {
      opts.headers['Content-Type'] = 'application/json';
      opts.headers['X-CSRF-Token'] = state.csrf;
      if (body !== undefined) opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        if (text) {
          try { data = JSON.parse(text); } catch (e) { data = null; }
        }
        if (!res.ok) {
          var code = data && typeof data.error === 'string' ? data.error : 'HTTP_' + res.status;
          var msg = data && typeof data.message === 'string' && data.message
            ? data.message : 'The server answered with status ' + res.status + '.';
          if (res.status === 401) signedOut();
          throw new ApiError(res.status, code, msg);
        }
        if (data === null || typeof data !== 'object') {
          throw new ApiError(res.status, 'BAD_RESPONSE', 'The server sent an answer this page cannot read.');
        }
        return data;
      });
    }, function () {
      throw new ApiError(0, 'NETWORK_ERROR', 'The server could not be reached. Check your connection.');
    });
  }

  function accountPath(id, rest) {
    return '/v1/trader/accounts/' + encodeURIComponent(id) + (rest || '');
  }

  // ---------------------------------------------------------------- sign-in state

  function signedOut() {
    state.signedIn = false;
    state.csrf = '';
    state.me = null;
    state.accountId = null;
    state.account = null;
    state.openOrders = [];
    state.fills = [];
    state.fillsCursor = null;
    state.selected = null;
    state.accountsKey = '';
    clearTimeout(state.timer);
    state.timer = 0;
    say('');
    show($('loading'), false);
    show($('app'), false);
    show($('session'), false);
    setText($('user-email'), '');
    ['orders-body', 'positions-body', 'fills-body'].forEach(function (id) { $(id).textContent = ''; });
    $('account-select').textContent = '';
    show($('signed-out'), true);
  }

  function signedIn() {
    state.signedIn = true;
    show($('loading'), false);
    show($('signed-out'), false);
    show($('session'), true);
    show($('app'), true);
  }

  function loadMe() {
    return api('GET', '/v1/trader/me').then(function (me) {
      state.me = me;
      state.csrf = typeof me.csrf_token === 'string' ? me.csrf_token : '';
      state.lastMe = Date.now();
      renderMe();
      return me;
    });
  }

  function boot() {
    loadMe().then(function () {
      signedIn();
      loadMarkets('', false);
      refreshNow();
    }, function (err) {
      if (err.status === 401) return;          // signedOut() already ran
      show($('loading'), false);
      showError('Could not load your profile (retrying in 5 s)', err);
      setTimeout(boot, 5000);
    });
  }

  function logout() {
    var btn = $('logout');
    btn.disabled = true;
    clearError();
    api('POST', '/v1/trader/logout').then(function () {
      signedOut();
      say('You are signed out.');
    }, function (err) {
      if (err.status === 401) { say('You are signed out.'); return; }
      showError('Sign-out failed', err);
    }).then(function () { btn.disabled = false; });
  }

  // ---------------------------------------------------------------- profile and accounts

  function accountLabel(a) {
    return (a.external_id || shortId(a.account_id)) + ' — ' + dash(a.tenant) + ' · ' +
      dash(a.stage) + ' · ' + dash(a.status);
  }

  function renderMe() {
    var me = state.me;
    setText($('user-email'), me.email || '');
    var w = me.personal_wallet || {};
    setText($('wallet-balance'), dash(w.balance));
    setText($('wallet-id'), w.wallet_id !== undefined ? '#' + w.wallet_id : '');

    var accounts = Array.isArray(me.accounts) ? me.accounts : [];
    var sel = $('account-select');
    var key = accounts.map(function (a) { return a.account_id; }).join(',');
    if (key !== state.accountsKey) {
      // The list itself changed: rebuild the options (rare; labels are updated in place).
      state.accountsKey = key;
      sel.textContent = '';
      accounts.forEach(function (a) {
        sel.appendChild(el('option', { value: a.account_id }, accountLabel(a)));
      });
    } else {
      accounts.forEach(function (a, i) { setText(sel.options[i], accountLabel(a)); });
    }
    show($('no-accounts'), accounts.length === 0);
    show($('account-box'), accounts.length > 0);

    var still = accounts.some(function (a) { return a.account_id === state.accountId; });
    if (!still) {
      selectAccount(accounts.length ? accounts[0].account_id : null);
    } else {
      sel.value = state.accountId;
      // A status change (e.g. closed by the firm) shows before the next account read.
      var summary = accounts.filter(function (a) { return a.account_id === state.accountId; })[0];
      if (state.account && summary && summary.status !== state.account.status) {
        state.account.status = summary.status;
        renderAccount();
      }
    }
  }

  function summaryOf(id) {
    var list = (state.me && state.me.accounts) || [];
    for (var i = 0; i < list.length; i++) if (list[i].account_id === id) return list[i];
    return null;
  }

  function selectAccount(id) {
    if (id === state.accountId) return;
    state.accountId = id;
    state.account = id ? summaryOf(id) : null;
    state.openOrders = [];
    state.ordersTruncated = false;
    state.fills = [];
    state.fillsCursor = null;
    $('orders-body').textContent = '';
    $('positions-body').textContent = '';
    $('fills-body').textContent = '';
    if (id) $('account-select').value = id;
    setText($('ticket-result'), '');
    setText($('ticket-error'), '');
    renderAccount();
    renderOrders();
    renderFills();
    if (state.signedIn) refreshNow();
  }

  function isClosed() {
    return !!(state.account && state.account.status === 'closed');
  }

  function renderAccount() {
    var a = state.account;
    var tenant = a && a.tenant ? a.tenant : (summaryOf(state.accountId) || {}).tenant;
    setText($('acct-tenant'), dash(tenant));
    setText($('acct-stage'), dash(a && a.stage));
    setText($('acct-status'), dash(a && a.status));
    setText($('acct-balance'), dash(a && a.balance));
    setText($('acct-equity'), dash(a && a.equity));
    setText($('acct-start'), dash(a && a.starting_balance));
    var upnl = $('acct-upnl');
    setText(upnl, dash(a && a.unrealized_pnl));
    upnl.className = signClass(a && a.unrealized_pnl);

    var closed = isClosed();
    show($('closed-note'), closed);
    var reason = '';
    if (!state.accountId) reason = 'There is no account to trade on.';
    else if (closed) reason = 'This account is closed: it is read-only, so the ticket is disabled.';
    setText($('ticket-closed'), reason);
    show($('ticket-closed'), reason !== '');
    $('ticket-fields').disabled = reason !== '';
    renderPositions();
  }

  // ---------------------------------------------------------------- refresh loop

  function schedule(delay) {
    clearTimeout(state.timer);
    state.timer = 0;
    if (!state.signedIn || document.hidden) return;
    state.timer = setTimeout(tick, delay);
  }

  function refreshNow() {
    if (state.refreshing) { state.again = true; return; }
    schedule(0);
  }

  function tick() {
    state.timer = 0;
    if (state.refreshing) { state.again = true; return; }
    state.refreshing = true;
    state.again = false;
    var work = Date.now() - state.lastMe > ME_REFRESH_MS ? loadMe() : Promise.resolve();
    work.then(function () {
      return Promise.all([refreshAccount(), refreshQuote(), refreshMarkets()]);
    }).then(function () {
      state.lastRefreshError = '';
      setText($('updated'), 'Updated ' + new Date().toLocaleTimeString());
    }, function (err) {
      if (err && err.status === 401) return;
      setText($('updated'), 'Update failed, retrying…');
      // Announce a failing refresh once, not every 2 s.
      var text = (err && err.code) + ' ' + errorText(err);
      if (text !== state.lastRefreshError) {
        state.lastRefreshError = text;
        showError('Could not refresh', err);
      }
    }).then(function () {
      state.refreshing = false;
      schedule(state.again ? 0 : REFRESH_MS);
    });
  }

  document.addEventListener('visibilitychange', function () {
    if (document.hidden) {
      clearTimeout(state.timer);
      state.timer = 0;
    } else if (state.signedIn) {
      refreshNow();
    }
  });

  function refreshAccount() {
    var id = state.accountId;
    if (!id) return Promise.resolve();
    return Promise.all([
      api('GET', accountPath(id)),
      loadOpenOrders(id),
      api('GET', accountPath(id, '/trades?limit=' + FILLS_PAGE))
    ]).then(function (r) {
      if (id !== state.accountId) return;     // switched meanwhile
      var prev = state.account || {};
      state.account = r[0];
      if (!state.account.tenant) state.account.tenant = prev.tenant;
      renderAccount();
      state.openOrders = r[1].open;
      state.ordersTruncated = r[1].truncated;
      renderOrders();
      mergeFills(r[2]);
      renderFills();
    });
  }

  // The orders list has every status, newest first: collect the open ones.
  function loadOpenOrders(id) {
    var open = [];
    var pages = 0;
    function page(cursor) {
      var q = '?limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      return api('GET', accountPath(id, '/orders' + q)).then(function (p) {
        (Array.isArray(p.data) ? p.data : []).forEach(function (o) {
          if (o.status === 'open') open.push(o);
        });
        pages++;
        if (p.next_cursor && pages < ORDER_PAGES) return page(p.next_cursor);
        return { open: open, truncated: !!p.next_cursor };
      });
    }
    return page(null);
  }

  // New fills arrive on top; older pages the user loaded stay below.
  function mergeFills(page) {
    var rows = Array.isArray(page.data) ? page.data : [];
    if (state.fills.length === 0) {
      state.fills = rows.slice();
      state.fillsCursor = page.next_cursor || null;
      return;
    }
    var known = new Set(state.fills.map(function (f) { return String(f.trade_id); }));
    var fresh = rows.filter(function (f) { return !known.has(String(f.trade_id)); });
    if (fresh.length) state.fills = fresh.concat(state.fills);
  }

  function loadOlderFills() {
    var id = state.accountId;
    if (!id || !state.fillsCursor) return;
    var btn = $('fills-more');
    btn.disabled = true;
    api('GET', accountPath(id, '/trades?limit=' + FILLS_PAGE + '&cursor=' +
                           encodeURIComponent(state.fillsCursor))).then(function (p) {
      if (id !== state.accountId) return;
      var known = new Set(state.fills.map(function (f) { return String(f.trade_id); }));
      (Array.isArray(p.data) ? p.data : []).forEach(function (f) {
        if (!known.has(String(f.trade_id))) state.fills.push(f);
      });
      state.fillsCursor = p.next_cursor || null;
      renderFills();
    }, function (err) {
      showError('Could not load older fills', err);
    }).then(function () { btn.disabled = false; });
  }

  // ---------------------------------------------------------------- market names

  // Orders, positions and fills carry market_id: show the question when known.
  function marketName(marketId) {
    var m = state.marketsById.get(marketId);
    if (m && m.question) return m.question;
    ensureMarket(marketId);
    return shortId(marketId);
  }

  function ensureMarket(marketId) {
    if (!marketId) return Promise.resolve(null);
    if (state.marketsById.has(marketId)) return Promise.resolve(state.marketsById.get(marketId));
    if (state.lookups.has(marketId)) return state.lookups.get(marketId);
    var p = api('GET', '/v1/markets?market_id=' + encodeURIComponent(marketId)).then(function (r) {
      var m = Array.isArray(r.data) && r.data.length ? r.data[0] : null;
      state.marketsById.set(marketId, m);  // null: not open for trading any more
      state.lookups.delete(marketId);
      renderOrders();
      renderPositions();
      renderFills();
      return m;
    }, function (err) {
      state.lookups.delete(marketId);
      throw err;
    });
    p.catch(function () {});
    state.lookups.set(marketId, p);
    return p;
  }

  function marketCell(marketId, outcome) {
    return [marketName(marketId), dash(outcome)];
  }

  function fillMarketCell(td, marketId, outcome) {
    var parts = marketCell(marketId, outcome);
    if (!td.firstChild) {
      td.appendChild(el('span', { className: 'mq' }));
      td.appendChild(document.createTextNode(' '));
      td.appendChild(el('strong'));
    }
    setText(td.firstChild, parts[0]);
    setText(td.lastChild, parts[1]);
  }

  // ---------------------------------------------------------------- markets browser

  function loadMarkets(query, more) {
    var gen = ++state.marketsGen;
    var q = '?limit=' + MARKETS_PAGE;
    if (query) q += '&search=' + encodeURIComponent(query);
    if (more && state.marketsCursor) q += '&cursor=' + encodeURIComponent(state.marketsCursor);
    $('markets-more').disabled = true;
    if (!more) setText($('markets-summary'), 'Searching…');
    return api('GET', '/v1/markets' + q).then(function (r) {
      if (gen !== state.marketsGen) return;
      var data = Array.isArray(r.data) ? r.data : [];
      state.marketsQuery = query;
      state.markets = more ? state.markets.concat(data) : data;
      state.marketsCursor = r.next_cursor || null;
      state.marketsLoaded = true;
      renderMarkets();
    }, function (err) {
      if (gen !== state.marketsGen) return;
      setText($('markets-summary'), '');
      if (err.status !== 401) showError('Could not load markets', err);
    }).then(function () { $('markets-more').disabled = false; });
  }

  // The loaded markets again (same search, as many as are shown) for fresh prices.
  function refreshMarkets() {
    if (!state.marketsLoaded) return Promise.resolve();
    var gen = state.marketsGen;
    var query = state.marketsQuery;
    var n = Math.min(500, Math.max(MARKETS_PAGE, state.markets.length));
    var q = '?limit=' + n + (query ? '&search=' + encodeURIComponent(query) : '');
    return api('GET', '/v1/markets' + q).then(function (r) {
      if (gen !== state.marketsGen) return;   // a search started meanwhile
      state.markets = Array.isArray(r.data) ? r.data : [];
      state.marketsCursor = r.next_cursor || null;
      renderMarkets();
    });
  }

  function renderMarkets() {
    var box = $('markets');
    state.markets.forEach(function (m) { state.marketsById.set(m.market_id, m); });
    var n = state.markets.length;
    var q = state.marketsQuery;
    if (n === 0) {
      setText($('markets-summary'), q ? 'No open market matches “' + q + '”.' : 'No open markets.');
    } else {
      setText($('markets-summary'), (q ? 'Markets matching “' + q + '”: ' : 'Open markets: ') + n +
              (state.marketsCursor ? ' shown, more available.' : '.'));
    }
    show($('markets-more'), !!state.marketsCursor);
    syncRows(box, state.markets, function (m) { return m.market_id; }, marketCard, updateMarketCard);
  }

  function marketCard(m) {
    var titleId = 'mq-' + Math.random().toString(36).slice(2);
    var card = el('article', { className: 'market', 'aria-labelledby': titleId });
    card.appendChild(el('h3', { id: titleId }));
    card.appendChild(el('p', { className: 'market-id' }));
    var table = el('table', {},
      el('caption', { className: 'visually-hidden' }),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'Outcome'),
        el('th', { scope: 'col', className: 'num' }, 'Bid'),
        el('th', { scope: 'col', className: 'num' }, 'Ask'),
        el('th', { scope: 'col', className: 'num' }, 'Last'),
        el('th', { scope: 'col' }, el('span', { className: 'visually-hidden' }, 'Action')))),
      el('tbody'));
    card.appendChild(el('div', { className: 'table-wrap' }, table));
    return card;
  }

  function updateMarketCard(card, m) {
    var question = m.question || m.slug || m.market_id;
    setText(card.querySelector('h3'), question);
    setText(card.querySelector('.market-id'), m.slug || '');
    setText(card.querySelector('caption'), 'Outcomes of: ' + question);
    var outcomes = Array.isArray(m.outcomes) ? m.outcomes : [];
    syncRows(card.querySelector('tbody'), outcomes, function (o) { return o.token_id; },
      function (o) {
        var btn = el('button', { type: 'button', className: 'btn btn-small' }, 'Trade');
        btn.addEventListener('click', function () {
          var market = state.marketsById.get(card.dataset.key) || m;
          var cur = (market.outcomes || []).filter(function (x) { return x.token_id === o.token_id; })[0] || o;
          selectOutcome(market, cur, null);
        });
        return el('tr', {}, el('th', { scope: 'row' }), el('td', { className: 'num' }),
          el('td', { className: 'num' }), el('td', { className: 'num' }), el('td', {}, btn));
      },
      function (row, o) {
        var c = row.children;
        setText(c[0], dash(o.outcome));
        setText(c[1], dash(o.best_bid));
        setText(c[2], dash(o.best_ask));
        setText(c[3], dash(o.last_trade_price));
        c[4].firstChild.setAttribute('aria-label', 'Trade ' + dash(o.outcome) + ': ' + question);
        row.classList.toggle('selected', !!(state.selected && state.selected.token_id === o.token_id));
      });
  }

  // ---------------------------------------------------------------- order ticket

  function selectOutcome(market, outcome, prefill) {
    state.selected = {
      market_id: market.market_id,
      token_id: outcome.token_id,
      outcome: outcome.outcome,
      question: market.question || market.slug || market.market_id,
      tick_size: outcome.tick_size
    };
    renderTicketSelection(outcome);
    if (prefill) {
      setRadio('side', prefill.side);
      setRadio('type', 'market');
      $('qty').value = prefill.quantity;
      syncType();
    }
    clearTicketMessages();
    renderMarkets();
    say('Selected ' + state.selected.outcome + ' — ' + state.selected.question + ' for the order ticket.');
    if (!$('ticket-fields').disabled) $('qty').focus();
  }

  function renderTicketSelection(quote) {
    var s = state.selected;
    show($('ticket-pick'), !s);
    show($('ticket-selected'), !!s);
    show($('ticket-quote'), !!s);
    if (!s) return;
    setText($('ticket-question'), s.question);
    setText($('ticket-outcome-name'), s.outcome);
    if (quote) {
      setText($('ticket-quote'), 'Bid ' + dash(quote.best_bid) + ' · Ask ' + dash(quote.best_ask) +
              ' · Last ' + dash(quote.last_trade_price) + ' · Tick ' + trimZeros(dash(s.tick_size)));
    }
    setText($('limit-hint'), 'Between 0 and 1, a multiple of the tick size ' +
            trimZeros(dash(s.tick_size)) + '.');
  }

  function refreshQuote() {
    var s = state.selected;
    if (!s) return Promise.resolve();
    return api('GET', '/v1/markets?market_id=' + encodeURIComponent(s.market_id)).then(function (r) {
      if (state.selected !== s) return;
      var m = Array.isArray(r.data) && r.data.length ? r.data[0] : null;
      var o = m && (m.outcomes || []).filter(function (x) { return x.token_id === s.token_id; })[0];
      if (!o) {
        setText($('ticket-quote'), 'This market is no longer open for trading.');
        return;
      }
      s.tick_size = o.tick_size;
      renderTicketSelection(o);
    });
  }

  function radioValue(name) {
    var r = document.querySelector('input[name="' + name + '"]:checked');
    return r ? r.value : '';
  }

  function setRadio(name, value) {
    var r = document.querySelector('input[name="' + name + '"][value="' + value + '"]');
    if (r) r.checked = true;
  }

  function syncType() {
    var limit = radioValue('type') === 'limit';
    show($('limit-field'), limit);
    $('limit-price').disabled = !limit;
  }

  // --- client-side validation, mirroring the API's rules (string/integer logic only)

  var QTY_RE = /^(\d{1,12})(?:\.(\d{1,4}))?$/;
  var DEC_RE = /^\d+(?:\.\d+)?$/;

  function checkQuantity(s) {
    if (s === '') return 'Enter a quantity.';
    if (!DEC_RE.test(s)) return 'Quantity must be a plain number such as 10 or 2.5.';
    var m = QTY_RE.exec(s);
    if (!m) {
      return s.indexOf('.') >= 0 && s.split('.')[1].length > 4
        ? 'Quantity can have at most 4 decimals.'
        : 'Quantity can have at most 12 digits before the decimal point.';
    }
    if (!/[1-9]/.test(s)) return 'Quantity must be greater than 0.';
    return '';
  }

  // "0.4300" -> 4300 (units of 0.0001); null when not representable.
  function units4(s) {
    var m = /^(\d+)(?:\.(\d+))?$/.exec(String(s || ''));
    if (!m) return null;
    var frac = (m[2] || '');
    if (frac.length > 4 && /[1-9]/.test(frac.slice(4))) return null;
    frac = (frac + '0000').slice(0, 4);
    var whole = m[1].replace(/^0+(?=\d)/, '');
    if (whole.length > 6) return null;
    return parseInt(whole, 10) * 10000 + parseInt(frac, 10);
  }

  function checkLimitPrice(s, tick) {
    if (s === '') return 'Enter a limit price.';
    if (!DEC_RE.test(s)) return 'Limit price must be a plain number such as 0.45.';
    if (s.indexOf('.') >= 0 && s.split('.')[1].length > 4) return 'Limit price can have at most 4 decimals.';
    if (!/^0+\.\d+$/.test(s) || !/[1-9]/.test(s)) return 'Limit price must be between 0 and 1 (both excluded).';
    var p = units4(s);
    var t = units4(tick);
    if (p !== null && t && p % t !== 0) {
      return 'Limit price must be a multiple of the tick size ' + trimZeros(tick) + '.';
    }
    return '';
  }

  function fieldError(input, errNode, text) {
    setText(errNode, text);
    if (text) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  function clearTicketMessages() {
    setText($('ticket-error'), '');
    setText($('ticket-result'), '');
    fieldError($('qty'), $('qty-error'), '');
    fieldError($('limit-price'), $('limit-error'), '');
  }

  function newClientOrderId() {
    var b = new Uint8Array(12);
    window.crypto.getRandomValues(b);
    return 'web-' + Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }

  function describeOrder(o) {
    var what = o.side + ' ' + o.quantity + ' ' + dash(o.outcome);
    if (o.status === 'filled' && o.fill) {
      return 'Order #' + o.order_id + ' filled: ' + what + ' at ' + dash(o.fill.price) +
        ', notional ' + dash(o.fill.notional) + ', fee ' + dash(o.fill.fee) + '.';
    }
    if (o.status === 'open') {
      return 'Limit order #' + o.order_id + ' is open: ' + what + ' at ' + dash(o.limit_price) +
        ' (reserved ' + dash(o.reserved_cash) + ').';
    }
    return 'Order #' + o.order_id + ': ' + what + ', status ' + dash(o.status) + '.';
  }

  function placeOrder(ev) {
    ev.preventDefault();
    if (state.placing) return;
    clearTicketMessages();
    clearError();
    var s = state.selected;
    var id = state.accountId;
    if (!id || isClosed()) return;
    if (!s) {
      setText($('ticket-error'), 'Pick an outcome first: use a “Trade” button in the market list.');
      return;
    }
    var qtyInput = $('qty');
    var qty = qtyInput.value.trim();
    var type = radioValue('type');
    var side = radioValue('side');
    var body = { token_id: s.token_id, side: side, type: type, quantity: qty };
    var firstBad = null;
    var qErr = checkQuantity(qty);
    fieldError(qtyInput, $('qty-error'), qErr);
    if (qErr) firstBad = qtyInput;
    if (type === 'limit') {
      var pInput = $('limit-price');
      var price = pInput.value.trim();
      var pErr = checkLimitPrice(price, s.tick_size);
      fieldError(pInput, $('limit-error'), pErr);
      if (pErr && !firstBad) firstBad = pInput;
      body.limit_price = price;
    }
    if (firstBad) {
      setText($('ticket-error'), 'Please correct the highlighted field.');
      firstBad.focus();
      return;
    }
    body.client_order_id = newClientOrderId();
    state.placing = true;
    var btn = $('place-order');
    btn.disabled = true;
    setText($('ticket-result'), 'Placing the order…');
    api('POST', accountPath(id, '/orders'), body).then(function (o) {
      setText($('ticket-result'), describeOrder(o));
      refreshNow();
    }, function (err) {
      setText($('ticket-result'), '');
      showErrorIn($('ticket-error'), 'The order was refused', err);
      if (err.code === 'CSRF_REJECTED') state.lastMe = 0;   // fetch a fresh token
      if (err.code === 'ACCOUNT_CLOSED') refreshNow();
    }).then(function () {
      state.placing = false;
      btn.disabled = false;
    });
  }

  // ---------------------------------------------------------------- open orders

  function renderOrders() {
    var orders = state.openOrders;
    show($('orders-empty'), orders.length === 0);
    show($('orders-table'), orders.length > 0);
    setText($('orders-empty'), state.ordersTruncated ? 'No open orders among the latest orders.' : 'No open orders.');
    var closed = isClosed();
    syncRows($('orders-body'), orders, function (o) { return o.order_id; }, function (o) {
      var btn = el('button', { type: 'button', className: 'btn btn-small btn-quiet' }, 'Cancel');
      btn.addEventListener('click', function () { cancelOrder(o.order_id, btn); });
      return el('tr', {}, cell('', 'cell-market'), cell('Side'), cell('Quantity', 'num'),
        cell('Limit price', 'num'), cell('Reserved', 'num'), cell('Placed'),
        el('td', { className: 'cell-action' }, btn));
    }, function (row, o) {
      var c = row.children;
      fillMarketCell(c[0], o.market_id, o.outcome);
      setText(c[1], o.side);
      c[1].className = 'side-' + o.side;
      setText(c[2], o.quantity);
      setText(c[3], dash(o.limit_price));
      setText(c[4], o.side === 'BUY' ? dash(o.reserved_cash) : '—');
      if (!c[5].firstChild) c[5].appendChild(timeEl(o.created_at));
      var btn = c[6].firstChild;
      btn.disabled = closed;
      btn.setAttribute('aria-label', 'Cancel order #' + o.order_id + ': ' + o.side + ' ' + o.quantity +
                       ' ' + dash(o.outcome) + ' at ' + dash(o.limit_price));
    });
  }

  function cancelOrder(orderId, btn) {
    var id = state.accountId;
    if (!id) return;
    btn.disabled = true;
    clearError();
    // The answer carries the order after the release (reserved 0.00): report what it held.
    var held = state.openOrders.filter(function (x) { return x.order_id === orderId; })[0];
    api('POST', accountPath(id, '/orders/' + encodeURIComponent(orderId) + '/cancel')).then(function (o) {
      say('Order #' + o.order_id + ' cancelled' +
          (held && held.side === 'BUY' ? '; ' + dash(held.reserved_cash) + ' released.' : '.'));
      state.openOrders = state.openOrders.filter(function (x) { return x.order_id !== orderId; });
      // Keep keyboard focus on the panel rather than losing it with the row.
      var panelTitle = $('orders-title');
      var hadFocus = btn === document.activeElement;
      renderOrders();
      if (hadFocus) { panelTitle.setAttribute('tabindex', '-1'); panelTitle.focus(); }
      refreshNow();
    }, function (err) {
      btn.disabled = false;
      showError('Order #' + orderId + ' could not be cancelled', err);
      refreshNow();
    });
  }

  // ---------------------------------------------------------------- positions

  function renderPositions() {
    var a = state.account;
    var list = a && Array.isArray(a.positions) ? a.positions : [];
    show($('positions-empty'), list.length === 0);
    show($('positions-table'), list.length > 0);
    var closed = isClosed();
    syncRows($('positions-body'), list, function (p) { return p.token_id; }, function (p) {
      var btn = el('button', { type: 'button', className: 'btn btn-small btn-quiet' }, 'Sell…');
      btn.addEventListener('click', function () { prepareSell(p.market_id, p.token_id, row.dataset.qty); });
      var row = el('tr', {}, cell('', 'cell-market'), cell('Quantity', 'num'),
        cell('Average entry', 'num'), cell('Mark price', 'num'), el('td', { className: 'cell-action' }, btn));
      return row;
    }, function (row, p) {
      var c = row.children;
      row.dataset.qty = p.quantity;
      fillMarketCell(c[0], p.market_id, p.outcome);
      setText(c[1], p.quantity);
      setText(c[2], dash(p.average_entry_price));
      setText(c[3], dash(p.mark_price));
      var btn = c[4].firstChild;
      btn.disabled = closed;
      btn.setAttribute('aria-label', 'Prepare a sell order for ' + p.quantity + ' ' + dash(p.outcome) +
                       ' shares: ' + marketName(p.market_id));
    });
  }

  function prepareSell(marketId, tokenId, qty) {
    clearError();
    ensureMarket(marketId).then(function (m) {
      var o = m && (m.outcomes || []).filter(function (x) { return x.token_id === tokenId; })[0];
      if (!o) {
        showError('', { message: 'This market is not open for trading any more.' });
        return;
      }
      selectOutcome(m, o, { side: 'SELL', quantity: qty });
    }, function (err) { showError('Could not load the market', err); });
  }

  // ---------------------------------------------------------------- fills

  function renderFills() {
    var fills = state.fills;
    show($('fills-empty'), fills.length === 0);
    show($('fills-table'), fills.length > 0);
    show($('fills-more'), !!state.fillsCursor);
    syncRows($('fills-body'), fills, function (f) { return f.trade_id; }, function () {
      return el('tr', {}, cell('Time'), cell('', 'cell-market'), cell('Side'), cell('Price', 'num'),
        cell('Quantity', 'num'), cell('Notional', 'num'), cell('Fee', 'num'));
    }, function (row, f) {
      var c = row.children;
      if (!c[0].firstChild) c[0].appendChild(timeEl(f.filled_at));
      fillMarketCell(c[1], f.market_id, f.outcome);
      setText(c[2], f.side);
      c[2].className = 'side-' + f.side;
      setText(c[3], dash(f.price));
      setText(c[4], dash(f.quantity));
      setText(c[5], dash(f.notional));
      setText(c[6], dash(f.fee));
    });
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    $('logout').addEventListener('click', logout);
    $('account-select').addEventListener('change', function (ev) {
      clearError();
      selectAccount(ev.target.value);
    });
    $('market-search').addEventListener('submit', function (ev) {
      ev.preventDefault();
      clearError();
      loadMarkets($('market-q').value.trim(), false);
    });
    $('markets-more').addEventListener('click', function () {
      loadMarkets(state.marketsQuery, true);
    });
    $('fills-more').addEventListener('click', loadOlderFills);
    $('ticket').addEventListener('submit', placeOrder);
    Array.prototype.forEach.call(document.querySelectorAll('input[name="type"]'), function (r) {
      r.addEventListener('change', syncType);
    });
    $('qty').addEventListener('input', function () { fieldError($('qty'), $('qty-error'), ''); });
    $('limit-price').addEventListener('input', function () {
      fieldError($('limit-price'), $('limit-error'), '');
    });
    syncType();
    renderTicketSelection(null);
    boot();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
