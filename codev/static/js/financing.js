/* Live totals of the budget and the financing plan while the association types.
 *
 * A help only: the page works without it and the server checks everything again on saving. Money is
 * whole francs held in BigInt (never a float); foreign amounts are cents times the rate in millionths,
 * rounded half up to the franc, as codev.core.money does. The call's rules come from data- attributes
 * of the form (data-ratio-num, data-max-grant, …); an empty attribute means the call sets no limit.
 *
 * Figures are read by the app's one reader, codev/static/js/numbers.js (loaded first; the rule of
 * codev/core/numbers.py): the page's language (data-locale) decides "1,200" and "1.200". A figure it
 * cannot read is shown as data-not-understood says ("not understood"), as is every total that depends
 * on it — never as 0.
 * Amounts are written as format_xof writes them: the form carries one of its figures (data-xof-sample).
 */
(function () {
  "use strict";

  var BPS = 10000n;
  var numbers = window.codevNumbers; /* the app's one reader of figures: codev/static/js/numbers.js */
  if (!numbers) { return; } /* without it the server's figures stay */
  var parseNumber = numbers.parseNumber, parseXof = numbers.parseXof, parseMinor = numbers.parseMinor;

  function optional(value) {
    return value === undefined || value === "" ? null : BigInt(value);
  }

  /* How format_xof writes an amount on this page, read from one of its figures ("1 234 567 F CFA"). */
  function formatter(form) {
    var sample = /^(\D*)1(\D*)234\2(?:567)(\D*)$/.exec(form.dataset.xofSample || "");
    var prefix = sample ? sample[1] : "", group = sample ? sample[2] : "\u202f";
    var suffix = sample ? sample[3] : "\u00a0F\u202fCFA";
    return function (amount) {
      return prefix + amount.toString().replace(/\B(?=(\d{3})+(?!\d))/g, group) + suffix;
    };
  }

  function share(part, whole, locale) {
    if (whole <= 0n) { return locale === "en" ? "0%" : "0\u00a0%"; }
    var bps = (part * BPS * 2n + whole) / (2n * whole);
    var units = bps / 100n, rest = bps % 100n;
    var text = units.toString() + (rest ? (locale === "en" ? "." : ",") + rest.toString().padStart(2, "0").replace(/0$/, "") : "");
    return locale === "en" ? text + "%" : text + "\u00a0%";
  }

  /* Beside an input the script cannot read: the page's words for it (hidden once it reads). */
  function markUnread(input, unread, words) {
    numbers.markUnread(input, unread ? words : "");
  }

  function field(line, name) {
    return line.querySelector("[name$='-" + name + "']");
  }

  function removed(line) {
    var box = field(line, "remove");
    return box && box.checked;
  }

  function hideSavedNotes(form) {
    form.querySelectorAll("[data-saved-note]").forEach(function (note) { note.hidden = true; });
  }

  function liveBudget(form) {
    var locale = form.dataset.locale || document.documentElement.lang || "fr";
    var format = formatter(form), words = form.dataset.notUnderstood || "?";
    function update() {
      var total = 0n;
      form.querySelectorAll("[data-line]").forEach(function (line) {
        var quantityInput = field(line, "quantity"), unitInput = field(line, "unit_cost");
        var quantity = parseNumber(quantityInput.value, 0, locale);
        var unit = parseXof(unitInput.value, locale);
        markUnread(quantityInput, quantity === null, words);
        markUnread(unitInput, unit === null, words);
        var output = line.querySelector("[data-amount]");
        if (removed(line) || quantity === undefined || unit === undefined) {
          output.textContent = "";
        } else if (quantity === null || unit === null) {
          output.textContent = words;
          total = null;
        } else {
          output.textContent = format(quantity * unit);
          if (total !== null) { total += quantity * unit; }
        }
      });
      form.querySelector("[data-total]").textContent = total === null ? words : format(total);
      hideSavedNotes(form);
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
  }

  function rates(form) {
    var table = {};
    (form.dataset.rates || "").split(" ").forEach(function (pair) {
      var parts = pair.split(":");
      if (parts.length === 2) { table[parts[0]] = BigInt(parts[1]); }
    });
    return table;
  }

  /* A line's francs: undefined when its amount is empty, null when it cannot be read (or has no rate). */
  function toXof(line, table, locale) {
    var currency = field(line, "currency").value;
    var text = field(line, "amount").value;
    if (currency === "XOF") { return parseXof(text, locale); }
    var cents = parseMinor(text, locale);
    if (cents === undefined || cents === null) { return cents; }
    var rate = table[currency];
    if (rate === undefined) { return null; }
    var denominator = 100n * 1000000n;
    return (cents * rate * 2n + denominator) / (2n * denominator);
  }

  /* Sums where a figure not understood makes the result not understood (null), never 0. */
  function plus(a, b) {
    return a === null || b === null ? null : a + b;
  }

  function liveFinancing(form) {
    var locale = form.dataset.locale || document.documentElement.lang || "fr";
    var format = formatter(form);
    var table = rates(form);
    var d = form.dataset;
    var words = d.notUnderstood || "?";
    var rules = {
      budget: BigInt(d.totalBudget || "0"),
      num: BigInt(d.ratioNum || "1"), den: BigInt(d.ratioDen || "1"),
      maxGrant: optional(d.maxGrant), maxShare: optional(d.maxGrantShareBps),
      minShare: optional(d.minAssociationShareBps), maxBudget: optional(d.maxTotalBudget),
      inKind: BigInt(d.inKindCountsBps || "0")
    };

    /* ok: true, false, or null when a figure it depends on is not understood. */
    function setRule(code, ok) {
      var item = form.querySelector("[data-rule='" + code + "']");
      if (!item) { return; }
      item.className = ok ? "done" : "todo";
      item.querySelector("[data-rule-state]").textContent = ok === null ? words : (ok ? d.met : d.notMet);
      var message = item.querySelector("[data-rule-message]");
      if (message && message.dataset.liveText) { message.textContent = message.dataset.liveText; }
    }

    function setSum(code, amount) {
      var output = form.querySelector("[data-sum='" + code + "']");
      if (output) { output.textContent = amount === null ? words : format(amount); }
      var shareOutput = form.querySelector("[data-share='" + code + "']");
      if (shareOutput) { shareOutput.textContent = amount === null ? "" : share(amount, rules.budget, locale); }
    }

    function known(value, test) {
      return value === null ? null : test(value);
    }

    function update() {
      var sums = { association_cash: 0n, association_in_kind: 0n, community: 0n, commune: 0n, other: 0n };
      form.querySelectorAll("[data-line]").forEach(function (line) {
        var amount = removed(line) ? undefined : toXof(line, table, locale);
        var source = field(line, "source").value;
        markUnread(field(line, "amount"), amount === null, words);
        if (amount !== undefined && Object.prototype.hasOwnProperty.call(sums, source)) {
          sums[source] = plus(sums[source], amount);
        }
      });
      var grantInput = form.querySelector("[name='requested_grant']");
      var grant = parseXof(grantInput.value, locale);
      markUnread(grantInput, grant === null, words);
      if (grant === undefined) { grant = 0n; }
      var b = rules.budget;
      var total = grant;
      Object.keys(sums).forEach(function (code) { total = plus(total, sums[code]); setSum(code, sums[code]); });
      setSum("requested_grant", grant);
      setSum("total_financing", total);
      var a = plus(sums.association_cash, known(sums.association_in_kind, function (k) { return k * rules.inKind / BPS; }));
      var allowed = known(a, function (money) {
        var most = money * rules.num / rules.den;
        if (rules.maxGrant !== null && rules.maxGrant < most) { most = rules.maxGrant; }
        if (rules.maxShare !== null && b * rules.maxShare / BPS < most) { most = b * rules.maxShare / BPS; }
        return most < 0n ? 0n : most;
      });
      setSum("max_grant", allowed);
      var grantAndA = grant === null || a === null ? null : true;
      setRule("budget_positive", b > 0n);
      setRule("balanced", known(total, function (t) { return t === b; }));
      setRule("match", known(grantAndA, function () { return grant * rules.den <= rules.num * a; }));
      if (rules.maxGrant !== null) { setRule("max_grant", known(grant, function (g) { return g <= rules.maxGrant; })); }
      if (rules.maxShare !== null) { setRule("max_share", known(grant, function (g) { return g * BPS <= rules.maxShare * b; })); }
      if (rules.minShare !== null) { setRule("min_association_share", known(a, function (m) { return m * BPS >= rules.minShare * b; })); }
      if (rules.maxBudget !== null) { setRule("max_budget", b <= rules.maxBudget); }
      hideSavedNotes(form);
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
  }

  if (typeof BigInt === "undefined") { return; } /* very old browsers: the server's figures stay */
  document.querySelectorAll("form[data-live='budget']").forEach(liveBudget);
  document.querySelectorAll("form[data-live='financing']").forEach(liveFinancing);
}());
