// What the tablet uploads for a photo: a smaller upright JPEG made here, or the file exactly
// as taken. The server turns, converts and checks every upload itself, so the tablet shrinks
// a photo only when its copy is certain to be as right as the server's: a complete JPEG, PNG
// or WebP larger than the upload size, whose orientation this browser is seen to apply, and
// only when the copy comes out smaller. Anything else goes as taken and the server judges it
// (a damaged file is refused in the server's words, not turned into a valid blank picture).
(function () {
  "use strict";
  // Without photo-facts.js (loaded before this) the outbox sends every photo as taken.
  if (window.walkaroundPhotoPrepare || !window.walkaroundPhotoFacts) return;

  var Facts = window.walkaroundPhotoFacts;
  var MAX_EDGE = Facts.MAX_EDGE;
  var JPEG_QUALITY = 0.85;

  // --- does this browser turn this photo? Asked of a 16×16 image carrying its EXIF ---

  // After its SOI: four 8×8 squares, red and green over blue and white (4:4:4, quality 95).
  var PROBE_JPEG =
    "/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkKCgoKCgYICwwLCgwJ" +
    "CgoK/9sAQwECAgICAgIFAwMFCgcGBwoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoK" +
    "CgoKCgoK/8AAEQgAEAAQAwERAAIRAQMRAf/EABYAAQEBAAAAAAAAAAAAAAAAAAkICv/EABQQAQAAAAAAAAAAAAAA" +
    "AAAAAAD/xAAXAQADAQAAAAAAAAAAAAAAAAAICQoH/8QAFBEBAAAAAAAAAAAAAAAAAAAAAP/aAAwDAQACEQMRAD8A" +
    "i8KZ/hKAtoVwNrTDWG4ggNqj/9k=";
  // The same picture as a lossless WebP "VP8L" chunk.
  var PROBE_VP8L = "VlA4TCoAAAAvD8ADAB8gEEjeHzqN+RcQFPwf3fxHZA+AMNtokpOc5L3PIKL/UfrB9gE=";
  var PROBE_COLOURS = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]];
  // Which stored corner (0 top left, 1 top right, 2 bottom left, 3 bottom right) shows in
  // each corner of the upright picture, in the same order, per EXIF orientation.
  var UPRIGHT_CORNERS = { 1: [0, 1, 2, 3], 2: [1, 0, 3, 2], 3: [3, 2, 1, 0], 4: [2, 3, 0, 1],
                          5: [0, 2, 1, 3], 6: [2, 0, 3, 1], 7: [3, 1, 2, 0], 8: [1, 3, 0, 2] };

  function base64Bytes(s) {
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function concat(parts) {
    var arrays = parts.map(function (p) {
      return typeof p === "string" ? new TextEncoder().encode(p) : new Uint8Array(p);
    });
    var out = new Uint8Array(arrays.reduce(function (n, a) { return n + a.length; }, 0));
    arrays.reduce(function (at, a) { out.set(a, at); return at + a.length; }, 0);
    return out;
  }

  // The probe picture with the photo's own EXIF block, byte for byte.
  function probeBytes(bytes, facts) {
    var exif = bytes.subarray(facts.exif[0], facts.exif[1]);
    if (facts.format === "jpeg") return concat([[0xff, 0xd8], exif, base64Bytes(PROBE_JPEG)]);
    var vp8l = base64Bytes(PROBE_VP8L);
    var vp8x = concat(["VP8X", [10, 0, 0, 0, 0x08, 0, 0, 0, 15, 0, 0, 15, 0, 0]]);
    var size = 4 + vp8x.length + vp8l.length + exif.length;
    var le32 = [size & 0xff, (size >>> 8) & 0xff, (size >>> 16) & 0xff, size >>> 24];
    return concat(["RIFF", le32, "WEBP", vp8x, vp8l, exif]);
  }

  // No options: their names and defaults have changed between spec versions and browsers
  // (an unknown one throws). Whatever this browser does, the probe has seen it do it.
  function decode(blob) {
    return createImageBitmap(blob);
  }

  function newCanvas(width, height) {
    if (window.OffscreenCanvas) return new OffscreenCanvas(width, height);
    var canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    return canvas;
  }

  function showsUpright(bitmap, orientation) {
    if (bitmap.width !== 16 || bitmap.height !== 16) return false;
    var ctx = newCanvas(16, 16).getContext("2d");
    ctx.drawImage(bitmap, 0, 0);
    var data = ctx.getImageData(0, 0, 16, 16).data;
    return [[4, 4], [11, 4], [4, 11], [11, 11]].every(function (xy, corner) {
      var at = 4 * (xy[1] * 16 + xy[0]);
      var want = PROBE_COLOURS[UPRIGHT_CORNERS[orientation][corner]];
      return Math.abs(data[at] - want[0]) + Math.abs(data[at + 1] - want[1]) +
        Math.abs(data[at + 2] - want[2]) < 96;
    });
  }

  function browserTurns(bytes, facts) {
    var type = facts.format === "jpeg" ? "image/jpeg" : "image/webp";
    var probe = new Blob([probeBytes(bytes, facts)], { type: type });
    return decode(probe).then(function (bitmap) {
      var upright = showsUpright(bitmap, facts.orientation);
      bitmap.close();
      return upright;
    }, function () { return false; });
  }

  // --- shrinking ---

  function encode(bitmap, width, height) {
    var canvas = newCanvas(width, height);
    var ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff"; // transparent PNGs would otherwise turn black in a JPEG
    ctx.fillRect(0, 0, width, height);
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, width, height);
    if (canvas.convertToBlob) {
      return canvas.convertToBlob({ type: "image/jpeg", quality: JPEG_QUALITY });
    }
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (blob) {
        if (blob) resolve(blob); else reject(new Error("encode failed"));
      }, "image/jpeg", JPEG_QUALITY);
    });
  }

  // The JPEG, or null when the browser decoded another size than the file says upright.
  function shrink(file, facts) {
    return decode(file).then(function (bitmap) {
      var size = Facts.uprightSize(facts);
      if (bitmap.width !== size[0] || bitmap.height !== size[1]) {
        bitmap.close();
        return null;
      }
      var scale = MAX_EDGE / Math.max(size[0], size[1]);
      var width = Math.max(1, Math.round(size[0] * scale));
      var height = Math.max(1, Math.round(size[1] * scale));
      var done = function () { bitmap.close(); };
      return encode(bitmap, width, height).then(function (blob) { done(); return blob; },
        function (err) { done(); throw err; });
    });
  }

  // Resolves to {blob, reason, facts}: blob is the file itself unless reason is "shrunk".
  function prepare(file) {
    var facts = null;
    var original = function (reason) { return { blob: file, reason: reason, facts: facts }; };
    if (!window.createImageBitmap) return Promise.resolve(original("no-decoder"));
    if (file.size > Facts.MAX_BYTES) return Promise.resolve(original("too-large"));
    return new Response(file).arrayBuffer().then(function (buffer) {
      var bytes = new Uint8Array(buffer);
      facts = Facts.inspect(bytes);
      var plan = Facts.decide(facts, true);
      if (!plan.shrink) return original(plan.reason);
      var turns = Facts.turnsOf(facts.orientation) ? browserTurns(bytes, facts)
        : Promise.resolve(true);
      return turns.then(function (browserTurnsIt) {
        plan = Facts.decide(facts, browserTurnsIt);
        if (!plan.shrink) return original(plan.reason);
        return shrink(file, facts).then(function (blob) {
          if (!blob) return original("decoded-size");
          if (blob.size >= file.size) return original("not-smaller");
          return { blob: blob, reason: "shrunk", facts: facts };
        });
      });
    }).catch(function () { return original("undecodable"); });
  }

  window.walkaroundPhotoPrepare = {
    prepare: prepare,
    probeBytes: probeBytes,
    UPRIGHT_CORNERS: UPRIGHT_CORNERS,
  };
})();
