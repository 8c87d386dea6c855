// Claim Monitor's only script: ask before removing a watch term or a source. Loaded from this site, never
// inline (the Content-Security-Policy forbids inline script); the pages work without it.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) {
    return;
  }
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
