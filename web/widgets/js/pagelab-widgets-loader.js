// A classic-script loader for pagelab's widgets, for tools that can only add
// plain <script src> tags. It imports the ES module pagelab-widgets.js, which
// does the rest:
// - in an mdBook book (whose pages define `path_to_root`), from the book's
//   widgets/ folder (src/widgets/ in the book's sources), since mdBook copies
//   additional-js files elsewhere and renames them;
// - anywhere else, from the folder this loader is in.
(function () {
  'use strict';
  var me = document.currentScript;
  var url = typeof path_to_root === 'string'
    ? new URL(path_to_root + 'widgets/pagelab-widgets.js', document.baseURI).href
    : new URL('pagelab-widgets.js', me && me.src ? me.src : document.baseURI).href;
  import(url).catch(function (e) {
    console.error('pagelab: could not load ' + url + ': ' + (e && e.message ? e.message : e));
  });
})();
