// Special collections: an OpenSeadragon viewer over each image's IIIF info.json.
// Without JavaScript (or without OpenSeadragon) the page keeps its plain sized <img>.
(function () {
  "use strict";
  var MOBILE_CSS = "style[data-openseadragon-mobile-css]";

  // OpenSeadragon adds its one CSS rule in an inline <style> unless the page has that
  // marker; the CSP refuses inline styles (even an empty marker). The rule is in
  // collections.css: while a viewer is made, the document answers that the marker exists.
  function withoutInlineStyle(make) {
    var query = document.querySelector;
    document.querySelector = function (selector) {
      return selector === MOBILE_CSS ? document.head : query.call(document, selector);
    };
    try {
      return make();
    } finally {
      delete document.querySelector;
    }
  }

  function start() {
    if (typeof OpenSeadragon === "undefined") { return; }
    document.querySelectorAll(".sc-viewer[data-info]").forEach(function (box) {
      // data-prefix names one of the button images: their folder is the prefix
      var button = box.getAttribute("data-prefix").split("?")[0];
      box.classList.add("sc-live");
      var viewer = withoutInlineStyle(function () {
        return OpenSeadragon({
          element: box,
          prefixUrl: button.substring(0, button.lastIndexOf("/") + 1),
          tileSources: [box.getAttribute("data-info")],
          showNavigator: false,
          showRotationControl: false,
          gestureSettingsTouch: { pinchRotate: false },
          crossOriginPolicy: "Anonymous",
          drawer: "canvas"
        });
      });
      // said on the page when every tile on screen is drawn (tests wait for it)
      viewer.world.addHandler("add-item", function (event) {
        event.item.addHandler("fully-loaded-change", function (change) {
          box.setAttribute("data-loaded", change.fullyLoaded ? "true" : "false");
        });
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
