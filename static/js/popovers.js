/* Definitions one click away: every [data-bs-toggle="popover"] on the page becomes a Bootstrap
 * popover (Bootstrap does not start popovers by itself). The text is in the markup, translated
 * by the server; nothing is written here. Loaded as a static file (no inline script: CSP). */
(function () {
  "use strict";
  if (!window.bootstrap) {
    return;
  }
  document.querySelectorAll('[data-bs-toggle="popover"]').forEach(function (element) {
    window.bootstrap.Popover.getOrCreateInstance(element);
  });
})();
