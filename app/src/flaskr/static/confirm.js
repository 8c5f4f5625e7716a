// Ask before submitting a form that has a data-confirm question. A listener
// in a file, not an onclick attribute: the proxy's Content-Security-Policy
// (script-src 'self') blocks inline handlers.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
