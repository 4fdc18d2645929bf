// The offline page's "Try again" (the Content-Security-Policy allows no inline handlers).
document.addEventListener("click", function (evt) {
  if (evt.target.closest("[data-reload]")) location.reload();
});
