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

  // A form answered 422 carries its own explanation (the server's message, in the user's
  // language) in the fragment: swap it in like a success instead of a generic error.
  if (window.htmx && htmx.config && Array.isArray(htmx.config.responseHandling)) {
    htmx.config.responseHandling.unshift({ code: "422", swap: true, error: false });
  }

  // The pool page: once a claim limit is reached, every Claim button still live says so
  // (the quota box, swapped in after each claim, carries the words in data-full-label).
  function applyQuota() {
    var quota = document.getElementById("pool-quota");
    var label = quota && quota.getAttribute("data-full-label");
    if (!label) return;
    document.querySelectorAll("button.claim-button:not([disabled])").forEach(function (button) {
      button.disabled = true;
      button.textContent = label;
      button.classList.remove("btn-primary");
      button.classList.add("btn-outline-secondary");
      button.setAttribute("data-claim-state", "full");
    });
  }
  document.addEventListener("htmx:afterSettle", applyQuota);

  // "Select all" boxes: data-select-all="name" ticks every checkbox of that name on the page.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-select-all]")) return;
    var name = box.getAttribute("data-select-all");
    document.querySelectorAll('input[type="checkbox"][name="' + name + '"], input[data-select-all="' + name + '"]').forEach(function (other) {
      if (!other.disabled) other.checked = box.checked;
    });
  });

  // A search box that filters a list in place: data-filter-list="#list-id"; each item's
  // data-filter-text is matched, case-insensitively.
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("input[data-filter-list]")) return;
    var term = field.value.trim().toLowerCase();
    var list = document.querySelector(field.getAttribute("data-filter-list"));
    if (!list) return;
    list.querySelectorAll("[data-filter-text]").forEach(function (item) {
      var text = item.getAttribute("data-filter-text").toLowerCase();
      item.hidden = term !== "" && text.indexOf(term) === -1;
    });
  });

  // A live check (the rule preview) swaps each field's error into its slot (#<id>_errors,
  // data-errors-for="<id>"): once the answer has settled, mark each input invalid or valid
  // again to match its slot.
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-errors-for]").forEach(function (slot) {
      var input = document.getElementById(slot.getAttribute("data-errors-for"));
      if (!input) return;
      var invalid = slot.textContent.trim() !== "";
      input.classList.toggle("is-invalid", invalid);
      if (invalid) {
        input.setAttribute("aria-invalid", "true");
        var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        if (described.indexOf(slot.id) === -1) described.push(slot.id);
        input.setAttribute("aria-describedby", described.join(" "));
      } else {
        input.removeAttribute("aria-invalid");
      }
    });
  });

  document.addEventListener("htmx:responseError", function () {
    showError(document.documentElement.dataset.serverError || "Something went wrong. Please try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    showError(document.documentElement.dataset.networkError || "The server could not be reached. Please try again.");
  });
})();
