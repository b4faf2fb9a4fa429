// A classic-script loader for pagelab's widgets, for tools that can only add
// plain <script src> tags (mdBook's additional-js, for one). It imports the
// ES module next to it; pagelab-widgets.js does the rest.
(function () {
  'use strict';
  var me = document.currentScript;
  var url = new URL('pagelab-widgets.js', me && me.src ? me.src : document.baseURI).href;
  import(url).catch(function (e) {
    console.error('pagelab: could not load ' + url + ': ' + (e && e.message ? e.message : e));
  });
})();
