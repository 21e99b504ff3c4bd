// Live countdowns: every <time data-countdown datetime="…"> shows "PREFIX 2 j 3 h", as the
// server first wrote it (the page reads the same without JavaScript). The words come from the
// element (data-prefix, data-units: day hour minute second, data-done), in the page's language.
"use strict";
(function () {
  var KEYS = [86400, 3600, 60, 1];

  function remaining(ms, units) {
    var seconds = Math.max(0, Math.floor(ms / 1000));
    var parts = KEYS.map(function (size, i) {
      var n = i === 0 ? Math.floor(seconds / size) : Math.floor((seconds % KEYS[i - 1]) / size);
      return [n, units[i]];
    });
    while (parts.length > 2 && parts[0][0] === 0) parts.shift();
    return parts.slice(0, 2).map(function (p) { return p[0] + " " + p[1]; }).join(" ");
  }

  function tick() {
    var now = Date.now();
    var nodes = document.querySelectorAll("time[data-countdown]");
    var soonest = Infinity;
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var target = Date.parse(node.getAttribute("datetime"));
      if (isNaN(target)) continue;
      var units = (node.getAttribute("data-units") || "d h min s").split(" ");
      var left = target - now;
      node.textContent = left > 0
        ? (node.getAttribute("data-prefix") || "") + " " + remaining(left, units)
        : node.getAttribute("data-done") || "";
      if (left > 0) soonest = Math.min(soonest, left);
    }
    // seconds show only in the last hour: refresh each second then, each 30 s before
    if (soonest !== Infinity) setTimeout(tick, soonest < 3600000 ? 1000 : 30000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", tick);
  else tick();
})();
