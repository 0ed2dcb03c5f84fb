/* The phone menu: a party member's menu has a dozen and a half links, which would push the page below the
   fold. On a narrow screen everything after the first few links (except the current page) folds behind a
   "More" button; without JavaScript, or on a wide screen, every link shows. No inline script. */
(function () {
  "use strict";
  var nav = document.querySelector(".mainnav");
  var button = nav && nav.querySelector(".nav-more");
  if (!button) { return; }
  nav.classList.add("foldable");
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = nav.classList.toggle("unfolded");
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = button.getAttribute(open ? "data-less" : "data-more");
  });
}());
