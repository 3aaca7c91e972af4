// hb's dashboard script: everything works without it. It only
// - refreshes the page's content about every 5 s while the tab is visible, with
//   If-None-Match, so an unchanged page costs a 304;
// - copies URLs and snippets (buttons with data-copy);
// - shows times in UTC, this browser's zone, or the check's zone.
(function () {
  "use strict";
  var KEY = "hb-tz";

  function zoneChoice() {
    try { return localStorage.getItem(KEY) || "utc"; } catch (e) { return "utc"; }
  }

  function checkZone() {
    var el = document.querySelector("[data-check-tz]");
    return el ? el.getAttribute("data-check-tz") : "UTC";
  }

  function formatter(choice) {
    var zone = choice === "local" ? undefined : choice === "check" ? checkZone() : "UTC";
    try {
      return new Intl.DateTimeFormat(undefined, {
        timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZoneName: "short"
      });
    } catch (e) {
      return null;
    }
  }

  function showTimes() {
    var choice = zoneChoice();
    if (choice === "utc") {
      // The server's own text is UTC; put it back if it was changed.
      document.querySelectorAll("time[data-utc]").forEach(function (t) {
        if (t.classList.contains("abs")) { t.textContent = t.getAttribute("data-utc"); } else { t.title = t.getAttribute("data-utc"); }
      });
      return;
    }
    var f = formatter(choice);
    if (!f) { return; }
    document.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) { return; }
      if (!t.hasAttribute("data-utc")) { t.setAttribute("data-utc", t.classList.contains("abs") ? t.textContent : t.title); }
      if (t.classList.contains("abs")) { t.textContent = f.format(d); } else { t.title = f.format(d); }
    });
  }

  function enhance() {
    document.querySelectorAll("button.copy[hidden]").forEach(function (b) {
      if (navigator.clipboard) { b.hidden = false; }
    });
    var sw = document.getElementById("tz-switch");
    if (sw) {
      sw.value = zoneChoice();
      sw.parentElement.hidden = false;
    }
    showTimes();
  }

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("button.copy") : null;
    if (!b) { return; }
    navigator.clipboard.writeText(b.getAttribute("data-copy")).then(function () {
      var old = b.textContent;
      b.textContent = "Copied";
      setTimeout(function () { b.textContent = old; }, 1500);
    });
  });

  document.addEventListener("change", function (ev) {
    if (ev.target && ev.target.id === "tz-switch") {
      try { localStorage.setItem(KEY, ev.target.value); } catch (e) { /* private mode */ }
      showTimes();
    }
  });

  var etag = null;
  var busy = false;

  function typing() {
    var a = document.activeElement;
    return a && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName) && a.id !== "tz-switch";
  }

  function refresh() {
    if (busy || document.hidden || typing()) { return; }
    busy = true;
    var headers = {};
    if (etag) { headers["If-None-Match"] = etag; }
    fetch(location.href, { headers: headers, cache: "no-store", credentials: "same-origin", redirect: "manual" })
      .then(function (r) {
        if (r.status === 304 || r.status !== 200) { return null; }
        etag = r.headers.get("ETag");
        return r.text();
      })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        var main = document.getElementById("main");
        if (!fresh || !main) { return; }
        var focused = document.activeElement && document.activeElement.id;
        main.innerHTML = fresh.innerHTML;
        document.title = doc.title;
        var icon = doc.getElementById("favicon");
        var mine = document.getElementById("favicon");
        if (icon && mine) { mine.setAttribute("href", icon.getAttribute("href")); }
        enhance();
        if (focused) { var el = document.getElementById(focused); if (el) { el.focus(); } }
      })
      .catch(function () { /* the next tick tries again */ })
      .then(function () { busy = false; });
  }

  function start() {
    enhance();
    var every = document.body.getAttribute("data-refresh");
    if (every) {
      // The page as loaded is the first version: learn its ETag without a reload.
      setInterval(refresh, parseInt(every, 10) * 1000);
      document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
