/* Small progressive enhancements; every page works without them. */
(function () {
  "use strict";

  // Filter selects (sort, owner, ...) apply as soon as they change.
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches(".filter-bar select")) {
      field.form.requestSubmit();
    }
  });

  // A failed htmx request (server error, network down) must not fail silently.
  function showError(text) {
    var area = document.getElementById("messages");
    if (!area) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-danger alert-dismissible fade show";
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", document.documentElement.dataset.closeLabel || "Close");
    alert.appendChild(close);
    area.appendChild(alert);
  }
  // A session that expired while the page was open: the server answers an htmx request with the
  // login page (after a redirect). Go there for real instead of pasting it into a panel.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var url = event.detail.xhr && event.detail.xhr.responseURL;
    if (url && url.indexOf("/accounts/login/") !== -1) {
      event.detail.shouldSwap = false;
      // Come back to this page after signing in, not to the POST-only URL the request went to.
      var here = window.location.pathname + window.location.search;
      window.location.assign(url.split("?")[0] + "?next=" + encodeURIComponent(here));
    }
  });

  document.addEventListener("htmx:responseError", function () {
    showError(document.documentElement.dataset.serverError || "Something went wrong. Please try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    showError(document.documentElement.dataset.networkError || "The server could not be reached. Please try again.");
  });
})();
