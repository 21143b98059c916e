// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Search suggestions: an input with data-suggest="<url>" gets a native
  // <datalist> (announced by screen readers, navigable with the keyboard)
  // filled from /search/suggest as the user types. Without JS the form
  // simply submits what was typed.
  function enhanceSuggest(input) {
    var url = input.getAttribute("data-suggest");
    if (!url || !window.fetch) { return; }
    var list = document.createElement("datalist");
    list.id = (input.id || "search") + "-suggestions";
    input.insertAdjacentElement("afterend", list);
    input.setAttribute("list", list.id);
    var timer = null;
    var last = "";
    var controller = null;

    function fill(items) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      items.forEach(function (item) {
        var opt = document.createElement("option");
        opt.value = item.value;
        opt.label = item.kind === "place" ? item.label + " (place)" : item.label + " — " + item.detail;
        list.appendChild(opt);
      });
    }

    input.addEventListener("input", function () {
      var q = input.value.trim();
      if (timer) { clearTimeout(timer); }
      if (q.length < 2 || q === last) { return; }
      timer = setTimeout(function () {
        last = q;
        if (controller) { controller.abort(); }
        controller = window.AbortController ? new AbortController() : null;
        fetch(url + "?q=" + encodeURIComponent(q), {
          headers: { "Accept": "application/json" },
          signal: controller ? controller.signal : undefined
        }).then(function (resp) {
          return resp.ok ? resp.json() : { suggestions: [] };
        }).then(function (data) {
          if (input.value.trim() === q) { fill(data.suggestions || []); }
        }).catch(function () { /* suggestions are optional */ });
      }, 150);
    });
  }

  document.querySelectorAll("input[data-suggest]").forEach(enhanceSuggest);

  // The photo viewer (viewer.js) is fetched only by pages that show photos.
  var viewer = document.currentScript && document.currentScript.getAttribute("data-viewer");
  if (viewer && document.querySelector("a.viewer-link")) {
    var script = document.createElement("script");
    script.src = viewer;
    document.head.appendChild(script);
  }
})();
