// Loaded without defer, before the body, so a theme chosen earlier applies
// before the first paint instead of flashing the system one. app.js owns
// the toggle; this only reads what it stored.
'use strict';
try {
  const theme = localStorage.getItem('cruise-theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
} catch {
  // Storage disabled: follow prefers-color-scheme.
}
