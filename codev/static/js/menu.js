/* The navigation's menus (<details> in nav.menu) work without this script; it only makes them close
   as a menu bar's do: opening one closes the others; Escape closes the open one and gives the focus back
   to its title; a click elsewhere on the page, or the focus tabbed out of it, closes it. */
(function () {
  "use strict";
  var groups = Array.prototype.slice.call(document.querySelectorAll("nav.menu details"));
  if (!groups.length) { return; }

  // The focus leaving a menu closes it when the keyboard moved it (Tab); a tap or a click is left to the
  // click handler below, which runs after the click: closing on the press would move the page under the
  // finger (an open menu pushes the page down on a phone) and the click would land elsewhere.
  var byPointer = false;
  document.addEventListener("pointerdown", function () { byPointer = true; }, true);
  document.addEventListener("keydown", function () { byPointer = false; }, true);

  function closeAll(except) {
    groups.forEach(function (group) {
      if (group !== except) { group.open = false; }
    });
  }

  groups.forEach(function (group) {
    group.addEventListener("toggle", function () {
      if (group.open) { closeAll(group); }
    });
    group.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && group.open) {
        group.open = false;
        group.querySelector("summary").focus();
        event.preventDefault();
      }
    });
    group.addEventListener("focusout", function (event) {
      if (!byPointer && group.open && event.relatedTarget && !group.contains(event.relatedTarget)) {
        group.open = false;
      }
    });
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("nav.menu details")) { closeAll(null); }
  });
})();
