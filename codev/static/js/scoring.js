/* Live total of the evaluation grid while the evaluator types.
 *
 * A help only: the page works without it and the server computes the score again on saving. The
 * arithmetic is the server's (codev/reviews/scoring.py), in integers (BigInt, never a float):
 * Σ weight × score / max over the grid, out of 100, in hundredths, rounded half-up once at the end.
 * Each score input carries data-weight and data-max; an empty or invalid score counts 0.
 */
(function () {
  "use strict";

  function gcd(a, b) {
    while (b) { var t = a % b; a = b; b = t; }
    return a;
  }

  function lcm(a, b) {
    return a / gcd(a, b) * b;
  }

  /* A whole number from 0 to max typed in ``input``; null when empty or not valid. */
  function scoreOf(input, max) {
    var raw = (input.value || "").replace(/[\s\u00a0\u202f]/g, "");
    if (!/^\d+$/.test(raw)) { return null; }
    var value = BigInt(raw);
    return value <= max ? value : null;
  }

  function centiText(centi, locale) {
    var whole = centi / 100n;
    var cents = (centi % 100n).toString().padStart(2, "0");
    return whole.toString() + (locale === "en" ? "." : ",") + cents;
  }

  function update(form, output) {
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
    inputs.forEach(function (input) {
      var max = BigInt(input.dataset.max);
      var score = scoreOf(input, max);
      var invalid = input.value.trim() !== "" && score === null;
      input.setAttribute("aria-invalid", invalid ? "true" : "false");
      if (score === null) { complete = false; return; }
      numerator += BigInt(input.dataset.weight) * score * (common / max);
    });
    var top = numerator * 100n * 100n;
    var bottom = common * totalWeight;
    var centi = (2n * top + bottom) / (2n * bottom);
    output.textContent = centiText(centi, output.dataset.locale) + (complete ? "" : " …");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-scoring]");
    if (!form) { return; }
    var output = form.querySelector("output[data-score-total]");
    if (!output) { return; }
    form.addEventListener("input", function () { update(form, output); });
    update(form, output);
  });
})();
