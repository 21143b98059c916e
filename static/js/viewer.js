// The result viewer. Progressive enhancement: without this file every photo is a
// plain link to its large (1600 px) image. With it, a photo opens in a modal
// <dialog> (focus kept inside, Escape closes, focus returns to the photo) showing
// the large image as WebP with a JPEG fallback; a result case can be compared
// before/after with a slider or side by side; every view zooms (buttons, +/-,
// mouse wheel, double-click, pinch) and pans (drag, arrow keys).
(function () {
  "use strict";
  if (!window.HTMLDialogElement) { return; }

  var MIN = 1, MAX = 6, STEP = 1.5;
  var dialog, titleEl, stage, inner, statusEl, tabs, sliderWrap, slider, modeBtns;
  var state = { items: [], index: 0, mode: "single", zoom: 1, x: 0, y: 0, opener: null, split: 50 };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function picture(item, cls) {
    var pic = el("picture", { "class": cls || "" });
    if (item.webp) { pic.appendChild(el("source", { type: "image/webp", srcset: item.webp })); }
    var img = el("img", { src: item.jpg, alt: item.alt, draggable: "false" });
    if (item.width) { img.width = item.width; img.height = item.height; }
    pic.appendChild(img);
    return pic;
  }

  function build() {
    dialog = el("dialog", { "class": "viewer", "aria-labelledby": "viewer-title" });
    var head = el("div", { "class": "viewer-head" });
    titleEl = el("h2", { id: "viewer-title", "class": "h6 mb-0" });
    var close = el("button", { type: "button", "class": "btn btn-light btn-sm viewer-close" }, "Close");
    close.addEventListener("click", function () { dialog.close(); });
    head.appendChild(titleEl);
    head.appendChild(close);

    var bar = el("div", { "class": "viewer-bar", role: "toolbar", "aria-label": "Photo tools" });
    tabs = el("div", { "class": "btn-group btn-group-sm viewer-tabs", role: "group", "aria-label": "Which photo" });
    modeBtns = el("div", { "class": "btn-group btn-group-sm", role: "group", "aria-label": "Compare" });
    [["slider", "Before/after slider"], ["side", "Side by side"]].forEach(function (m) {
      var b = el("button", { type: "button", "class": "btn btn-outline-light", "data-mode": m[0], "aria-pressed": "false" }, m[1]);
      b.addEventListener("click", function () { setMode(state.mode === m[0] ? "single" : m[0]); });
      modeBtns.appendChild(b);
    });
    var zoomGroup = el("div", { "class": "btn-group btn-group-sm", role: "group", "aria-label": "Zoom" });
    [["-", "Zoom out", -1], ["+", "Zoom in", 1], ["1:1", "Reset zoom", 0]].forEach(function (z) {
      var b = el("button", { type: "button", "class": "btn btn-outline-light", "aria-label": z[1] }, z[0]);
      b.addEventListener("click", function () { z[2] === 0 ? zoomTo(1) : zoomTo(state.zoom * Math.pow(STEP, z[2])); });
      zoomGroup.appendChild(b);
    });
    bar.appendChild(tabs);
    bar.appendChild(modeBtns);
    bar.appendChild(zoomGroup);

    stage = el("div", {
      "class": "viewer-stage",
      tabindex: "0",
      role: "group",
      "aria-roledescription": "zoomable photo",
      "aria-label": "Photo. Plus and minus zoom, arrow keys move the photo when zoomed."
    });
    inner = el("div", { "class": "viewer-inner" });
    stage.appendChild(inner);

    sliderWrap = el("div", { "class": "viewer-slider" });
    var label = el("label", { "for": "viewer-split", "class": "form-label small mb-0" }, "Before ◀ ▶ After");
    slider = el("input", { type: "range", id: "viewer-split", min: "0", max: "100", value: "50", "class": "form-range" });
    slider.addEventListener("input", function () { state.split = Number(slider.value); applySplit(); });
    sliderWrap.appendChild(label);
    sliderWrap.appendChild(slider);

    statusEl = el("p", { "class": "visually-hidden", "aria-live": "polite" });
    var link = el("p", { "class": "small mb-0 viewer-full" });
    dialog.appendChild(head);
    dialog.appendChild(bar);
    dialog.appendChild(stage);
    dialog.appendChild(sliderWrap);
    dialog.appendChild(link);
    dialog.appendChild(statusEl);
    document.body.appendChild(dialog);

    dialog.addEventListener("close", function () {
      inner.textContent = "";
      if (state.opener) { state.opener.focus(); }
    });
    dialog.addEventListener("click", function (e) { if (e.target === dialog) { dialog.close(); } });
    stage.addEventListener("keydown", onKey);
    stage.addEventListener("wheel", function (e) {
      e.preventDefault();
      zoomTo(state.zoom * (e.deltaY < 0 ? 1.2 : 1 / 1.2));
    }, { passive: false });
    stage.addEventListener("dblclick", function () { zoomTo(state.zoom > 1 ? 1 : 3); });
    enablePan();
    window.addEventListener("resize", function () { if (dialog.open) { fitCompare(); apply(); } });
  }

  function say(text) { statusEl.textContent = text; }

  function befores() { return state.items.filter(function (i) { return i.label === "Before"; }); }
  function laters() { return state.items.filter(function (i) { return i.label !== "Before"; }); }
  function canCompare() { return befores().length > 0 && laters().length > 0; }

  function render() {
    inner.textContent = "";
    var item = state.items[state.index];
    var after = state.items[state.index].label === "Before" ? laters()[laters().length - 1] : item;
    if (state.mode === "slider") {
      var wrap = el("div", { "class": "viewer-compare" });
      wrap.appendChild(picture(befores()[0], "viewer-before"));
      wrap.appendChild(picture(after, "viewer-after"));
      inner.appendChild(wrap);
      fitCompare();
      applySplit();
      say("Slider: before on the left, " + after.label.toLowerCase() + " on the right. Move the slider to compare.");
    } else if (state.mode === "side") {
      var side = el("div", { "class": "viewer-side" });
      side.appendChild(figure(befores()[0]));
      side.appendChild(figure(after));
      inner.appendChild(side);
      say("Side by side: before and " + after.label.toLowerCase() + ".");
    } else {
      inner.appendChild(picture(item, "viewer-single"));
      say(item.label + " (" + (state.index + 1) + " of " + state.items.length + "). " + item.alt);
    }
    sliderWrap.hidden = state.mode !== "slider";
    Array.prototype.forEach.call(tabs.children, function (b, i) {
      b.setAttribute("aria-pressed", String(state.mode === "single" && i === state.index));
    });
    Array.prototype.forEach.call(modeBtns.children, function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-mode") === state.mode));
    });
    modeBtns.hidden = !canCompare();
    var link = dialog.querySelector(".viewer-full");
    link.textContent = "";
    var a = el("a", { href: item.jpg, "class": "link-light" }, "Open the full-size image");
    link.appendChild(a);
    zoomTo(1, true);
  }

  function figure(item) {
    var f = el("figure", { "class": "mb-0" });
    f.appendChild(picture(item));
    f.appendChild(el("figcaption", { "class": "small" }, item.label));
    return f;
  }

  // The compared pair fills a box of the photo's own shape, so the slider's split
  // falls on the photo and not on the letterbox around it.
  function fitCompare() {
    var wrap = inner.querySelector(".viewer-compare");
    if (!wrap) { return; }
    var item = befores()[0];
    var ratio = item.width && item.height ? item.width / item.height : 1;
    var w = Math.min(stage.clientWidth, stage.clientHeight * ratio);
    wrap.style.width = w + "px";
    wrap.style.height = (w / ratio) + "px";
  }

  function applySplit() {
    var after = inner.querySelector(".viewer-after");
    if (after) { after.style.clipPath = "inset(0 0 0 " + state.split + "%)"; }
    var wrap = inner.querySelector(".viewer-compare");
    if (wrap) { wrap.style.setProperty("--split", state.split + "%"); }
  }

  function clamp() {
    var limitX = (stage.clientWidth * (state.zoom - 1)) / 2;
    var limitY = (stage.clientHeight * (state.zoom - 1)) / 2;
    state.x = Math.max(-limitX, Math.min(limitX, state.x));
    state.y = Math.max(-limitY, Math.min(limitY, state.y));
  }

  function apply() {
    clamp();
    inner.style.transform = "translate(" + state.x + "px," + state.y + "px) scale(" + state.zoom + ")";
    stage.classList.toggle("is-zoomed", state.zoom > 1);
  }

  function zoomTo(z, quiet) {
    var before = state.zoom;
    state.zoom = Math.max(MIN, Math.min(MAX, z));
    if (state.zoom === 1) { state.x = 0; state.y = 0; } else {
      state.x *= state.zoom / before; state.y *= state.zoom / before;
    }
    apply();
    dialog.setAttribute("data-zoom", String(Math.round(state.zoom * 100)));
    if (!quiet) { say("Zoom " + Math.round(state.zoom * 100) + " percent."); }
  }

  function onKey(e) {
    var step = 40;
    if (e.key === "+" || e.key === "=") { zoomTo(state.zoom * STEP); }
    else if (e.key === "-" || e.key === "_") { zoomTo(state.zoom / STEP); }
    else if (e.key === "0") { zoomTo(1); }
    else if (e.key === "ArrowLeft" && state.zoom > 1) { state.x += step; apply(); }
    else if (e.key === "ArrowRight" && state.zoom > 1) { state.x -= step; apply(); }
    else if (e.key === "ArrowUp" && state.zoom > 1) { state.y += step; apply(); }
    else if (e.key === "ArrowDown" && state.zoom > 1) { state.y -= step; apply(); }
    else if ((e.key === "ArrowLeft" || e.key === "ArrowRight") && state.mode === "single") {
      var n = state.items.length;
      state.index = (state.index + (e.key === "ArrowRight" ? 1 : n - 1)) % n;
      render();
    } else { return; }
    e.preventDefault();
  }

  function enablePan() {
    var pointers = {};
    var last = null;
    var pinch = null;
    stage.addEventListener("pointerdown", function (e) {
      pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
      stage.setPointerCapture(e.pointerId);
      last = { x: e.clientX, y: e.clientY };
    });
    stage.addEventListener("pointermove", function (e) {
      if (!pointers[e.pointerId]) { return; }
      pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
      var ids = Object.keys(pointers);
      if (ids.length === 2) {
        var a = pointers[ids[0]], b = pointers[ids[1]];
        var d = Math.hypot(a.x - b.x, a.y - b.y);
        if (pinch) { zoomTo(state.zoom * d / pinch, true); }
        pinch = d;
        return;
      }
      if (state.zoom > 1 && last) {
        state.x += e.clientX - last.x;
        state.y += e.clientY - last.y;
        apply();
      }
      last = { x: e.clientX, y: e.clientY };
    });
    function end(e) {
      delete pointers[e.pointerId];
      pinch = null;
      last = null;
    }
    stage.addEventListener("pointerup", end);
    stage.addEventListener("pointercancel", end);
  }

  function setMode(mode) {
    state.mode = mode;
    render();
  }

  function open(link) {
    if (!dialog) { build(); }
    var group = link.getAttribute("data-viewer-group");
    var links = Array.prototype.filter.call(
      document.querySelectorAll("a.viewer-link"),
      function (a) { return a.getAttribute("data-viewer-group") === group; }
    );
    state.items = links.map(function (a) {
      return {
        label: a.getAttribute("data-label"),
        alt: a.getAttribute("data-alt"),
        jpg: a.getAttribute("href"),
        webp: a.getAttribute("data-webp"),
        width: Number(a.getAttribute("data-width")) || 0,
        height: Number(a.getAttribute("data-height")) || 0
      };
    });
    state.index = Math.max(0, links.indexOf(link));
    state.mode = "single";
    state.opener = link;
    titleEl.textContent = link.getAttribute("data-viewer-title") || "Photo";
    tabs.textContent = "";
    state.items.forEach(function (item, i) {
      var b = el("button", { type: "button", "class": "btn btn-outline-light", "aria-pressed": "false" }, item.label);
      b.addEventListener("click", function () { state.index = i; state.mode = "single"; render(); });
      tabs.appendChild(b);
    });
    dialog.showModal();
    render();
    stage.focus();
  }

  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a.viewer-link");
    if (!link || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) { return; }
    e.preventDefault();
    open(link);
  });
})();
