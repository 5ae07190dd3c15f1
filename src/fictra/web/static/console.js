// FICTRA Ops console: live SLA countdowns and copy-to-clipboard. No build step; htmx does the rest.
(function () {
  "use strict";

  function fmt(seconds) {
    var sign = seconds < 0 ? "overdue " : "";
    var s = Math.abs(Math.trunc(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (h) return sign + h + "h " + String(m).padStart(2, "0") + "m";
    return sign + m + "m " + String(sec).padStart(2, "0") + "s";
  }

  // Countdowns run on the server's clock: each element carries the server's "now" when it was rendered
  // (data-now), and the browser only adds the time elapsed since it first saw the element.
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      var deadline = Date.parse(el.getAttribute("data-deadline"));
      if (isNaN(deadline)) return;
      if (el._seenAt === undefined) {
        el._seenAt = now;
        var serverNow = Date.parse(el.getAttribute("data-now") || "");
        el._base = isNaN(serverNow) ? now : serverNow;
      }
      var left = (deadline - (el._base + now - el._seenAt)) / 1000;
      el.textContent = fmt(left);
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 300);
    });
  }

  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-copy]");
    if (!el || !navigator.clipboard) return;
    navigator.clipboard.writeText(el.getAttribute("data-copy")).then(function () {
      el.classList.add("copied");
      setTimeout(function () { el.classList.remove("copied"); }, 1200);
    });
  });

  // An expired session during a background refresh: go to the login page instead of swapping it in.
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 401) window.location.assign("/login");
  });

  tick();
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
})();
