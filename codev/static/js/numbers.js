/* The app's one reader of figures typed in a page: the rule of codev/core/numbers.py, line for line
 * (splitFigure is split_figure, parseNumber is parse_number). Loaded before the scripts that read figures
 * (financing.js for the live budget and plan, scoring.js for the live total of the evaluation grid).
 *
 * The page's language decides "1,200" and "1.200"; spaces of any kind between groups are only spaces.
 * parseNumber gives a BigInt count of 10^-places units, undefined when the text is empty and null when it
 * cannot be read: a caller shows a figure it cannot read as "not understood", never counts it as 0.
 * tests/test_browser_numbers.py holds this reader to the server's, figure by figure, in both languages.
 */
(function () {
  "use strict";

  var MAX_DIGITS = 18; /* as codev.core.numbers: below 2^63 */
  var SPACES = /[\s\u00a0\u202f\u2009_']/g;

  function grouped(text, mark) {
    return new RegExp("^[1-9][0-9]{0,2}(?:" + (mark === "." ? "\\." : ",") + "[0-9]{3})+$").test(text);
  }

  /* [whole part, decimals] of raw (digits, "." and "," only), or "format" / "ambiguous". */
  function splitFigure(raw, places, language) {
    var dot = raw.indexOf(".") >= 0, comma = raw.indexOf(",") >= 0;
    var head, tail;
    if (!dot && !comma) { return [raw, ""]; }
    if (dot && comma) { /* "4,000.50": the last mark is the decimal one, the other groups thousands */
      var at = Math.max(raw.lastIndexOf("."), raw.lastIndexOf(","));
      var decimal = raw.charAt(at), group = decimal === "." ? "," : ".";
      head = raw.slice(0, at); tail = raw.slice(at + 1);
      if (head.indexOf(decimal) >= 0 || !tail || !grouped(head, group)) { return "format"; }
      return [head.split(group).join(""), tail];
    }
    var mark = dot ? "." : ",";
    var pieces = raw.split(mark);
    if (pieces.length > 2) { return grouped(raw, mark) ? [pieces.join(""), ""] : "format"; }
    head = pieces[0]; tail = pieces[1];
    if (!head || !tail) { return "format"; }
    if (!grouped(raw, mark)) { return [head, tail]; } /* "33,5", "4000.50": only a decimal mark */
    var groups = language === "en" ? mark === "," : mark === ".";
    if (groups && (language === "en" || places === 0)) { return [head + tail, ""]; }
    if (!groups && places >= tail.length) { return [head, tail]; }
    return "ambiguous";
  }

  /* "en" or "fr" (reader_language): the language whose way of writing numbers decides "1,200". */
  function language(locale) {
    return /^en/i.test(locale || "") ? "en" : "fr";
  }

  /* text as a BigInt count of 10^-places units; undefined when empty, null when not understood. */
  function parseNumber(text, places, locale) {
    var raw = (text || "").replace(SPACES, "");
    if (!raw) { return undefined; }
    if (!/^[0-9.,]+$/.test(raw)) { return null; }
    var parts = splitFigure(raw, places, language(locale));
    if (typeof parts === "string") { return null; }
    var units = parts[0].replace(/^0+/, "") || "0", fraction = parts[1];
    if (units.length > MAX_DIGITS || fraction.length > places) { return null; }
    var scale = 10n ** BigInt(places);
    return BigInt(units) * scale + BigInt((fraction + "0".repeat(places)).slice(0, places) || "0");
  }

  /* Whole francs ("2 500 000", "2.500.000 F CFA"), as codev.core.money.parse_xof reads them. */
  function parseXof(text, locale) {
    var raw = (text || "").replace(SPACES, "").replace(/(?:FCFA|CFA|XOF|F)$/i, "");
    return parseNumber(raw, 0, locale);
  }

  /* An amount with at most two decimals as cents (codev.core.money.parse_minor). */
  function parseMinor(text, locale) {
    return parseNumber(text, 2, locale);
  }

  /* Beside an input the page cannot read: what is wrong, in the page's words (empty: it reads, the note hides). */
  function markUnread(input, words) {
    var note = input.parentNode.querySelector("[data-unread]");
    if (!note && !words) { return; }
    if (!note) {
      note = document.createElement("p");
      note.className = "error";
      note.setAttribute("data-unread", "");
      note.setAttribute("aria-live", "polite");
      input.insertAdjacentElement("afterend", note);
    }
    note.textContent = words || "";
    note.hidden = !words;
  }

  window.codevNumbers = {
    splitFigure: splitFigure, parseNumber: parseNumber, parseXof: parseXof, parseMinor: parseMinor,
    language: language, markUnread: markUnread
  };
}());
