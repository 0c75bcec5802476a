// Package web is the browser UI of `cruise server`: the applications
// overview, an application's page (status, resource graph and table,
// sync history with rollback, events), its diff, and the error and
// logged-out pages.
//
// The server does the work and this package only draws it: handlers call
// the API's own code, fill a page struct ([OverviewPage], [AppPage], ...)
// with apiv1 values and call the matching [Renderer] method. Nothing here
// talks to Kubernetes, reads requests or knows about sessions.
//
// # Why server-rendered
//
// Pages are html/template output with a small amount of hand-written
// JavaScript (static/app.js) on top, not a single-page app:
//
//   - Every page and action works without JavaScript, so the UI is usable
//     from any browser, testable with plain HTTP, and has no build step,
//     npm tree or CDN; the binary carries everything (embed.FS) and works
//     offline.
//   - html/template escapes every value for its context, which matters
//     because most of what the UI shows (names, messages, patches, commit
//     subjects) comes from Git and the cluster, not from cruise.
//   - Big applications stay fast: the resource graph is laid out in Go
//     ([Layout]) and drawn as plain SVG, so 1,500 resources cost one render
//     and no client-side layout.
//
// JavaScript adds what HTML cannot: live updates over Server-Sent Events
// (rows of the overview change in place; the application page re-fetches
// the fragment [Renderer.Live] renders and swaps it in), the rollback
// confirmation dialog, the theme toggle, instant search and keyboard
// shortcuts ("/" search, j/k/Enter on the overview).
//
// # Content-Security-Policy
//
// The server sends a strict policy: script-src 'self' and style-src
// 'self', with no 'unsafe-inline'. So the templates contain no inline
// <script>, no on* handler attributes and no style attributes; behaviour
// is attached by app.js through ids and data attributes, and looks come
// from classes in static/app.css (SVG positions use the x, y and transform
// attributes, which CSP does not govern). The tests check every rendered
// page for all three.
//
// # Static files
//
// [Static] serves static/ at /static/. Pages link each file with its
// content hash (/static/app.css?v=...), so a file can be cached as
// immutable for a year and a new build is still picked up at once.
package web
