// The place form's map preview. Progressive enhancement: the server draws the saved
// position; this only moves the preview while coordinates are typed (same URL formula as
// _map_urls in admin/views/entries.py). A file, not inline: the admin's CSP refuses inline scripts.
(function () {
  var lat = document.getElementById("f-lat"), lon = document.getElementById("f-lon");
  var frame = document.getElementById("map-frame"), link = document.getElementById("map-link");
  var empty = document.getElementById("map-empty");
  if (!lat || !lon || !frame) { return; }
  var timer = null;
  function number(input) {
    var text = input.value.trim().replace(",", ".");
    return text === "" ? NaN : Number(text);
  }
  function update() {
    var y = number(lat), x = number(lon);
    var ok = isFinite(y) && isFinite(x) && Math.abs(y) <= 90 && Math.abs(x) <= 180;
    if (ok) {
      var bbox = [(x - 0.01).toFixed(5), (y - 0.006).toFixed(5), (x + 0.01).toFixed(5), (y + 0.006).toFixed(5)];
      var src = "https://www.openstreetmap.org/export/embed.html?bbox=" + bbox.join(",") +
                "&layer=mapnik&marker=" + y + "," + x;
      if (frame.getAttribute("src") !== src) { frame.setAttribute("src", src); }
      link.href = "https://www.openstreetmap.org/?mlat=" + y + "&mlon=" + x + "#map=17/" + y + "/" + x;
    }
    frame.hidden = !ok; link.hidden = !ok; empty.hidden = ok;
  }
  function later() { clearTimeout(timer); timer = setTimeout(update, 400); }
  lat.addEventListener("input", later); lon.addEventListener("input", later);
  lat.addEventListener("change", update); lon.addEventListener("change", update);
})();
