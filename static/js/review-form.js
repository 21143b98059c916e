// Enhancement only: the healing rating is offered once 6 months have passed since the
// last session. The server checks the same rule; without JavaScript the note explains it.
(function () {
  "use strict";
  var form = document.querySelector("form.review-form");
  if (!form) { return; }
  var month = form.querySelector("[name=last_month]");
  var year = form.querySelector("[name=last_year]");
  var healing = form.querySelectorAll("[name=healing]");
  if (!month || !year || !healing.length) { return; }
  function update() {
    var now = new Date();
    var months = (now.getFullYear() - Number(year.value)) * 12 + (now.getMonth() + 1 - Number(month.value));
    var allowed = months >= 6;
    healing.forEach(function (input) {
      input.disabled = !allowed;
      if (!allowed) { input.checked = false; }
    });
  }
  month.addEventListener("change", update);
  year.addEventListener("change", update);
  update();
})();
