/* Live totals of the budget and the financing plan while the association types.
 *
 * A help only: the page works without it and the server checks everything again on saving. Money is
 * whole francs held in BigInt (never a float); foreign amounts are cents times the rate in millionths,
 * rounded half up to the franc, as codev.core.money does. The call's rules come from data- attributes
 * of the form (data-ratio-num, data-max-grant, …); an empty attribute means the call sets no limit.
 */
(function () {
  "use strict";

  var BPS = 10000n;

  function digits(text) {
    return (text || "").replace(/[\s\u00a0\u202f'_]/g, "");
  }

  /* Whole francs typed as "2 500 000" or "2.500.000"; null when not a valid amount. */
  function parseXof(text) {
    var raw = digits(text).replace(/(F|FCFA|XOF)$/i, "");
    if (/^\d{1,3}([.,]\d{3})+$/.test(raw)) { raw = raw.replace(/[.,]/g, ""); }
    if (!/^\d+$/.test(raw)) { return null; }
    return BigInt(raw);
  }

  /* An amount with at most two decimals as cents; null when not valid. */
  function parseMinor(text) {
    var match = /^(\d+)(?:[.,](\d{1,2}))?$/.exec(digits(text));
    if (!match) { return null; }
    return BigInt(match[1]) * 100n + BigInt((match[2] || "").padEnd(2, "0"));
  }

  function optional(value) {
    return value === undefined || value === "" ? null : BigInt(value);
  }

  function format(amount, locale) {
    var grouped = amount.toString().replace(/\B(?=(\d{3})+(?!\d))/g, locale === "en" ? "," : "\u202f");
    return locale === "en" ? "F CFA " + grouped : grouped + "\u00a0F\u00a0CFA";
  }

  function share(part, whole, locale) {
    if (whole <= 0n) { return locale === "en" ? "0%" : "0\u00a0%"; }
    var bps = (part * BPS * 2n + whole) / (2n * whole);
    var units = bps / 100n, rest = bps % 100n;
    var text = units.toString() + (rest ? (locale === "en" ? "." : ",") + rest.toString().padStart(2, "0").replace(/0$/, "") : "");
    return locale === "en" ? text + "%" : text + "\u00a0%";
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
    var locale = document.documentElement.lang || "fr";
    function update() {
      var total = 0n;
      form.querySelectorAll("[data-line]").forEach(function (line) {
        var quantity = parseXof(field(line, "quantity").value);
        var unit = parseXof(field(line, "unit_cost").value);
        var output = line.querySelector("[data-amount]");
        var amount = quantity !== null && unit !== null && !removed(line) ? quantity * unit : null;
        output.textContent = amount === null ? "" : format(amount, locale);
        if (amount !== null) { total += amount; }
      });
      form.querySelector("[data-total]").textContent = format(total, locale);
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

  function toXof(line, table) {
    var currency = field(line, "currency").value;
    var text = field(line, "amount").value;
    if (currency === "XOF") { return parseXof(text); }
    var cents = parseMinor(text);
    var rate = table[currency];
    if (cents === null || rate === undefined) { return null; }
    var denominator = 100n * 1000000n;
    return (cents * rate * 2n + denominator) / (2n * denominator);
  }

  function liveFinancing(form) {
    var locale = form.dataset.locale || "fr";
    var table = rates(form);
    var d = form.dataset;
    var rules = {
      budget: BigInt(d.totalBudget || "0"),
      num: BigInt(d.ratioNum || "1"), den: BigInt(d.ratioDen || "1"),
      maxGrant: optional(d.maxGrant), maxShare: optional(d.maxGrantShareBps),
      minShare: optional(d.minAssociationShareBps), maxBudget: optional(d.maxTotalBudget),
      inKind: BigInt(d.inKindCountsBps || "0")
    };

    function setRule(code, ok) {
      var item = form.querySelector("[data-rule='" + code + "']");
      if (!item) { return; }
      item.className = ok ? "done" : "todo";
      item.querySelector("[data-rule-state]").textContent = ok ? d.met : d.notMet;
      var message = item.querySelector("[data-rule-message]");
      if (message && message.dataset.liveText) { message.textContent = message.dataset.liveText; }
    }

    function setSum(code, amount) {
      var output = form.querySelector("[data-sum='" + code + "']");
      if (output) { output.textContent = format(amount, locale); }
      var shareOutput = form.querySelector("[data-share='" + code + "']");
      if (shareOutput) { shareOutput.textContent = share(amount, rules.budget, locale); }
    }

    function update() {
      var sums = { association_cash: 0n, association_in_kind: 0n, community: 0n, commune: 0n, other: 0n };
      form.querySelectorAll("[data-line]").forEach(function (line) {
        var amount = removed(line) ? null : toXof(line, table);
        if (amount !== null) { sums[field(line, "source").value] += amount; }
      });
      var grant = parseXof(form.querySelector("[name='requested_grant']").value) || 0n;
      var b = rules.budget;
      var total = grant;
      Object.keys(sums).forEach(function (code) { total += sums[code]; setSum(code, sums[code]); });
      setSum("requested_grant", grant);
      setSum("total_financing", total);
      var a = sums.association_cash + sums.association_in_kind * rules.inKind / BPS;
      var allowed = a * rules.num / rules.den;
      if (rules.maxGrant !== null && rules.maxGrant < allowed) { allowed = rules.maxGrant; }
      if (rules.maxShare !== null && b * rules.maxShare / BPS < allowed) { allowed = b * rules.maxShare / BPS; }
      setSum("max_grant", allowed < 0n ? 0n : allowed);
      setRule("budget_positive", b > 0n);
      setRule("balanced", total === b);
      setRule("match", grant * rules.den <= rules.num * a);
      if (rules.maxGrant !== null) { setRule("max_grant", grant <= rules.maxGrant); }
      if (rules.maxShare !== null) { setRule("max_share", grant * BPS <= rules.maxShare * b); }
      if (rules.minShare !== null) { setRule("min_association_share", a * BPS >= rules.minShare * b); }
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
