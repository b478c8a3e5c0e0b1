// lmsys viewer: the bearer token (kept in sessionStorage), forms that call the API,
// and the hierarchy's expand / collapse all. No framework, no build step.
(function () {
  "use strict";
  var base = document.body.dataset.base || "";
  var KEY = "lmsys-token";

  function token() { try { return sessionStorage.getItem(KEY) || ""; } catch (e) { return ""; } }
  // The page scripts (map.js, charts.js) send the same token through this.
  window.lmsysAuth = function () { var t = token(); return t ? { Authorization: "Bearer " + t } : {}; };

  var tf = document.getElementById("token-form");
  if (tf) {
    var state = document.getElementById("token-state");
    var show = function () { state.textContent = token() ? "token set" : "no token"; };
    show();
    tf.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = document.getElementById("token-input").value.trim();
      try { if (v) { sessionStorage.setItem(KEY, v); } else { sessionStorage.removeItem(KEY); } } catch (e) {}
      document.getElementById("token-input").value = "";
      show();
    });
  }

  function ints(v) {
    return v.split(/[\s,]+/).filter(Boolean).map(function (x) {
      var n = Number(x);
      if (!Number.isInteger(n)) { throw new Error(JSON.stringify(x) + " is not an integer"); }
      return n;
    });
  }

  // body collects a form's named fields; empty fields are left out.
  function body(form) {
    var out = {};
    if (form.dataset.run) { out.run_id = form.dataset.run; }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) { return; }
      var v = el.type === "checkbox" ? el.checked : el.value.trim();
      if (v === "" || v === false) { return; }
      switch (el.dataset.type) {
        case "int":
          var n = Number(v);
          if (!Number.isInteger(n)) { throw new Error(el.name + ": " + JSON.stringify(v) + " is not an integer"); }
          out[el.name] = n; break;
        case "ints": out[el.name] = ints(v); break;
        case "list": out[el.name] = v.split(",").map(function (x) { return x.trim(); }).filter(Boolean); break;
        default: out[el.name] = v;
      }
    });
    return out;
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.api-form"), function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var status = form.querySelector("output.form-status");
      var say = function (msg, ok) { if (status) { status.textContent = msg; status.className = "form-status " + (ok ? "ok" : "err"); } };
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { return; }
      var payload;
      try { payload = body(form); } catch (e) { say(e.message, false); return; }
      var headers = { "Content-Type": "application/json" };
      if (token()) { headers.Authorization = "Bearer " + token(); }
      say("…", true);
      fetch(base + form.dataset.action, { method: "POST", headers: headers, body: JSON.stringify(payload), credentials: "same-origin" })
        .then(function (resp) {
          return resp.json().catch(function () { return {}; }).then(function (data) { return { ok: resp.ok, status: resp.status, data: data }; });
        })
        .then(function (r) {
          if (!r.ok) { say((r.data.error || ("HTTP " + r.status)) + (r.status === 401 ? " (paste the API token at the top)" : ""), false); return; }
          var id = r.data.edit && r.data.edit.id;
          say("done" + (id ? " (edit " + id + ")" : ""), true);
          setTimeout(function () {
            if (form.dataset.redirect) { window.location.href = form.dataset.redirect; } else { window.location.reload(); }
          }, 400);
        })
        .catch(function (e) { say(String(e), false); });
    });
  });

  function setAll(open) {
    Array.prototype.forEach.call(document.querySelectorAll("#hierarchy details"), function (d) { d.open = open; });
  }
  var ex = document.getElementById("expand-all");
  if (ex) { ex.addEventListener("click", function () { setAll(true); }); }
  var co = document.getElementById("collapse-all");
  if (co) { co.addEventListener("click", function () { setAll(false); }); }
})();
