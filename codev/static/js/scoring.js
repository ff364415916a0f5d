/* The evaluator's page: the live total of the grid while the evaluator types, and the project's sections
 * open beside the grid on a wide screen.
 *
 * A help only: the page works without it (the sections fold and unfold by themselves, <details>) and the
 * server computes the score again on saving. The arithmetic is the server's (codev/reviews/scoring.py),
 * in integers (BigInt, never a float): Σ weight × score / max over the grid, out of 100, in hundredths,
 * rounded half-up once at the end. Each score input carries data-weight and data-max.
 *
 * Scores are read by the app's one reader (codev/static/js/numbers.js, the rule of codev/core/numbers.py)
 * in the page's language; a score is a whole number. An empty score leaves the total incomplete (" …");
 * a score the page cannot read, or above the criterion's maximum, is marked beside its input and the
 * total shows data-not-understood's words ("not understood") — never a total that counts it as 0.
 */
(function () {
  "use strict";

  var WIDE = "(min-width: 60rem)"; /* as reviews.css: the project and the grid side by side */

  function gcd(a, b) {
    while (b) { var t = a % b; a = b; b = t; }
    return a;
  }

  function lcm(a, b) {
    return a / gcd(a, b) * b;
  }

  /* The score typed in input: a BigInt, undefined when empty, null when not understood, false above max. */
  function scoreOf(input, max, locale) {
    var value = window.codevNumbers.parseNumber(input.value, 0, locale);
    if (value === undefined || value === null) { return value; }
    return value <= max ? value : false;
  }

  function centiText(centi, locale) {
    var whole = centi / 100n;
    var cents = (centi % 100n).toString().padStart(2, "0");
    return whole.toString() + (locale === "en" ? "." : ",") + cents;
  }

  function update(form, output) {
    var locale = window.codevNumbers.language(output.dataset.locale || document.documentElement.lang);
    var words = output.dataset.notUnderstood || "?";
    var inputs = form.querySelectorAll("input[data-weight][data-max]");
    var common = 1n;
    var totalWeight = 0n;
    inputs.forEach(function (input) {
      common = lcm(common, BigInt(input.dataset.max));
      totalWeight += BigInt(input.dataset.weight);
    });
    if (totalWeight === 0n) { return; }
    var numerator = 0n;
    var complete = true;
    var unread = false;
    inputs.forEach(function (input) {
      var max = BigInt(input.dataset.max);
      var score = scoreOf(input, max, locale);
      var range = input.closest("[data-out-of-range]");
      var problem = score === null ? words : score === false ? (range ? range.dataset.outOfRange : words) : "";
      input.setAttribute("aria-invalid", problem ? "true" : "false");
      window.codevNumbers.markUnread(input, problem);
      if (problem) { unread = true; return; }
      if (score === undefined) { complete = false; return; }
      numerator += BigInt(input.dataset.weight) * score * (common / max);
    });
    if (unread) { output.textContent = words; return; }
    var top = numerator * 100n * 100n;
    var bottom = common * totalWeight;
    var centi = (2n * top + bottom) / (2n * bottom);
    output.textContent = centiText(centi, locale) + (complete ? "" : " …");
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.matchMedia) { /* beside the grid, the text is read open */
      var wide = window.matchMedia(WIDE);
      var unfold = function () {
        if (!wide.matches) { return; }
        document.querySelectorAll("details[data-project-part]").forEach(function (part) { part.open = true; });
      };
      unfold();
      if (wide.addEventListener) { wide.addEventListener("change", unfold); }
    }
    var form = document.querySelector("form[data-scoring]");
    if (!form || !window.codevNumbers) { return; }
    var output = form.querySelector("output[data-score-total]");
    if (!output) { return; }
    form.addEventListener("input", function () { update(form, output); });
    update(form, output);
  });
})();
