// Poll the session-authenticated alert feed and add rows for alerts not yet shown.
(function () {
  var body = document.getElementById("alerts-body");
  var status = document.getElementById("alerts-status");
  function cell(text, cls) {
    var td = document.createElement("td");
    td.textContent = text == null ? "" : String(text);
    if (cls) td.className = cls;
    return td;
  }
  function refresh() {
    fetch("/ui/alerts.json", {credentials: "same-origin"})
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (alerts) {
        alerts.slice().reverse().forEach(function (a) {
          if (body.querySelector('tr[data-alert="' + CSS.escape(a.alert_id) + '"]')) return;
          var tr = document.createElement("tr");
          tr.setAttribute("data-alert", a.alert_id);
          tr.appendChild(cell(a.as_of));
          tr.appendChild(cell(a.severity, "sev-" + a.severity));
          tr.appendChild(cell(a.subject));
          tr.appendChild(cell(a.rule));
          tr.appendChild(cell(a.message));
          tr.appendChild(cell(a.source));
          body.insertBefore(tr, body.firstChild);
        });
        status.textContent = "updated 已更新 " + new Date().toLocaleTimeString();
      })
      .catch(function (e) { status.textContent = "refresh failed 刷新失败: " + e.message; });
  }
  setInterval(refresh, 2000);
})();
