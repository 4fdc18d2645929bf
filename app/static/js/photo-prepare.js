// What the tablet uploads for a photo: a smaller upright JPEG made here, or the file exactly
// as taken. The server turns, converts and checks every upload itself, so the tablet shrinks
// a photo only when its copy is certain to be as right as the server's: a complete JPEG, PNG
// or WebP larger than the upload size, whose orientation this browser is seen to apply, and
// only when the copy comes out smaller. Anything else goes as taken and the server judges it
// (a damaged file is refused in the server's words, not turned into a valid blank picture).
(function () {
  "use strict";
  if (window.walkaroundPhotoPrepare) return;

  var MAX_EDGE = 2000; // the server's display size: a larger upload only costs bandwidth
  var JPEG_QUALITY = 0.85;

  // --- the file's own structure ---

  function u16(b, i, le) {
    return le ? b[i] | (b[i + 1] << 8) : (b[i] << 8) | b[i + 1];
  }

  function u32(b, i, le) {
    return le ? (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16)) + b[i + 3] * 0x1000000
      : b[i] * 0x1000000 + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);
  }

  function text(b, start, end) {
    return new TextDecoder("latin1").decode(b.subarray(start, Math.min(end, b.length)));
  }

  // The Orientation tag (0x0112) of a TIFF block's first IFD; null when there is none.
  function tiffOrientation(b, start, end) {
    if (text(b, start, start + 6) === "Exif\0\0") start += 6;
    var order = text(b, start, start + 2);
    if (end - start < 8 || (order !== "II" && order !== "MM")) return null;
    var le = order === "II";
    var ifd = start + u32(b, start + 4, le);
    if (ifd + 2 > end) return null;
    for (var k = 0, n = u16(b, ifd, le); k < n; k++) {
      var entry = ifd + 2 + 12 * k;
      if (entry + 12 > end) return null;
      if (u16(b, entry, le) !== 0x0112) continue;
      var type = u16(b, entry + 2, le);
      return type === 4 ? u32(b, entry + 8, le) : u16(b, entry + 8, le);
    }
    return null;
  }

  // Pillow, and so the server, falls back to an XMP tiff:Orientation; browsers do not.
  function xmpOrientation(b, start, end) {
    var match = /tiff:Orientation(="|>)([0-9])/.exec(text(b, start, end));
    return match ? parseInt(match[2], 10) : null;
  }

  function newFacts(format) {
    // exif: [start, end) of the APP1 segment or EXIF chunk, header included.
    return { format: format, width: 0, height: 0, orientation: null, xmpOrientation: null,
             exifRaw: false, exif: null, complete: false };
  }

  // The next marker after entropy-coded data: there a 0xFF is always followed by 0x00
  // (stuffing) or a restart marker, so any other pair is a real marker.
  function afterScan(b, i) {
    while ((i = b.indexOf(0xff, i)) !== -1 && i + 1 < b.length) {
      var next = b[i + 1];
      if (next !== 0 && next !== 0xff && (next < 0xd0 || next > 0xd7)) return i;
      i += 1;
    }
    return b.length;
  }

  function inspectJpeg(b) {
    var facts = newFacts("jpeg");
    var i = 2;
    while (i + 2 <= b.length) {
      if (b[i] !== 0xff) return facts; // no marker where one must be: damaged
      var m = b[i + 1];
      if (m === 0xff) { i += 1; continue; }
      // The primary image's end: an MPO's second frame or a gain map may follow.
      if (m === 0xd9) { facts.complete = facts.width > 0; return facts; }
      if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) { i += 2; continue; }
      if (i + 4 > b.length) return facts;
      var body = i + 4, end = i + 2 + u16(b, i + 2);
      if (end < body || end > b.length) return facts;
      if (m === 0xe1 && !facts.exif && text(b, body, body + 6) === "Exif\0\0") {
        facts.exif = [i, end];
        facts.orientation = tiffOrientation(b, body, end);
      } else if (m === 0xe1 && text(b, body, body + 29) === "http://ns.adobe.com/xap/1.0/\0") {
        facts.xmpOrientation = xmpOrientation(b, body, end);
      } else if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc &&
                 !facts.width) {
        facts.height = u16(b, body + 1);
        facts.width = u16(b, body + 3);
      }
      i = m === 0xda ? afterScan(b, end) : end;
    }
    return facts;
  }

  function inspectPng(b) {
    var facts = newFacts("png");
    facts.width = u32(b, 16);
    facts.height = u32(b, 20);
    var i = 8;
    while (i + 12 <= b.length) {
      var length = u32(b, i), type = text(b, i + 4, i + 8);
      var body = i + 8, end = body + length + 4;
      if (end > b.length) return facts;
      if (type === "eXIf") {
        facts.exif = [i, end];
        facts.orientation = tiffOrientation(b, body, body + length);
      } else if (type === "iTXt" || type === "tEXt" || type === "zTXt") {
        var keyword = text(b, body, Math.min(body + 80, body + length)).split("\0")[0];
        if (keyword === "XML:com.adobe.xmp") {
          facts.xmpOrientation = xmpOrientation(b, body, body + length);
        } else if (keyword === "Raw profile type exif") {
          facts.exifRaw = true; // hex-encoded EXIF that Pillow reads and we do not
        }
      } else if (type === "IEND") {
        facts.complete = facts.width > 0 && facts.height > 0;
        return facts;
      }
      i = end;
    }
    return facts;
  }

  function inspectWebp(b) {
    var facts = newFacts("webp");
    var riffEnd = 8 + u32(b, 4, true);
    var i = 12, pixels = false;
    while (i + 8 <= Math.min(riffEnd, b.length)) {
      var type = text(b, i, i + 4), length = u32(b, i + 4, true), body = i + 8;
      if (body + length > b.length) return facts;
      if (type === "VP8X") {
        facts.width = 1 + (b[body + 4] | (b[body + 5] << 8) | (b[body + 6] << 16));
        facts.height = 1 + (b[body + 7] | (b[body + 8] << 8) | (b[body + 9] << 16));
      } else if (type === "VP8 " || type === "VP8L") {
        pixels = true;
        if (!facts.width && type === "VP8 ") {
          facts.width = u16(b, body + 6, true) & 0x3fff;
          facts.height = u16(b, body + 8, true) & 0x3fff;
        } else if (!facts.width) {
          var bits = u32(b, body + 1, true);
          facts.width = (bits & 0x3fff) + 1;
          facts.height = ((bits >>> 14) & 0x3fff) + 1;
        }
      } else if (type === "EXIF") {
        facts.exif = [i, body + length + (length & 1)];
        facts.orientation = tiffOrientation(b, body, body + length);
      } else if (type === "XMP ") {
        facts.xmpOrientation = xmpOrientation(b, body, body + length);
      }
      i = body + length + (length & 1);
    }
    facts.complete = pixels && i >= riffEnd && riffEnd <= b.length;
    return facts;
  }

  // Format, stored size, orientation and completeness, read from the bytes themselves.
  function inspect(bytes) {
    var b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    if (b.length > 24 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return inspectJpeg(b);
    if (b.length > 24 && b[0] === 0x89 && text(b, 1, 8) === "PNG\r\n\x1a\n") return inspectPng(b);
    if (b.length > 24 && text(b, 0, 4) === "RIFF" && text(b, 8, 12) === "WEBP") {
      return inspectWebp(b);
    }
    return newFacts(null); // HEIC and the rest: the browser may not even decode them
  }

  // Orientation 2-8 mean the stored pixels must be turned or mirrored; 0, 1 and any other
  // value mean as stored, as Pillow treats them.
  function turnsOf(orientation) {
    return orientation >= 2 && orientation <= 8;
  }

  function orientationOf(facts) {
    return facts.orientation !== null ? facts.orientation : facts.xmpOrientation;
  }

  function uprightSize(facts) {
    var o = orientationOf(facts);
    return o >= 5 && o <= 8 ? [facts.height, facts.width] : [facts.width, facts.height];
  }

  // Shrink here, or send the file as taken? `browserTurns`: this browser was seen to apply
  // this photo's EXIF orientation (asked only when the photo needs turning).
  function decide(facts, browserTurns) {
    if (!facts.format) return { shrink: false, reason: "format" };
    if (!facts.complete) return { shrink: false, reason: "incomplete" };
    if (!facts.width || !facts.height) return { shrink: false, reason: "size-unknown" };
    if (Math.max(facts.width, facts.height) <= MAX_EDGE) return { shrink: false, reason: "fits" };
    if (facts.exifRaw) return { shrink: false, reason: "orientation-unknown" };
    if (turnsOf(orientationOf(facts))) {
      if (facts.orientation === null) return { shrink: false, reason: "orientation-xmp" };
      if (facts.format === "png") return { shrink: false, reason: "orientation-not-applied" };
      if (!browserTurns) return { shrink: false, reason: "orientation-not-applied" };
    }
    return { shrink: true, reason: "shrink" };
  }

  // --- does this browser turn this photo? Asked of a 16×16 image carrying its EXIF ---

  // After its SOI: four 8×8 squares, red and green over blue and white (4:4:4, quality 95).
  var PROBE_JPEG = "/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkKCgoKCgYICwwL" +
    "CgwJCgoK/9sAQwECAgICAgIFAwMFCgcGBwoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoK" +
    "CgoKCgoKCgoKCgoK/8AAEQgAEAAQAwERAAIRAQMRAf/EABYAAQEBAAAAAAAAAAAAAAAAAAkICv/EABQQAQAA" +
    "AAAAAAAAAAAAAAAAAAD/xAAXAQADAQAAAAAAAAAAAAAAAAAICQoH/8QAFBEBAAAAAAAAAAAAAAAAAAAAAP/a" +
    "AAwDAQACEQMRAD8Ai8KZ/hKAtoVwNrTDWG4ggNqj/9k=";
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

  function decode(blob) {
    return createImageBitmap(blob, { imageOrientation: "from-image" });
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
      var size = uprightSize(facts);
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
    return new Response(file).arrayBuffer().then(function (buffer) {
      var bytes = new Uint8Array(buffer);
      facts = inspect(bytes);
      var plan = decide(facts, true);
      if (!plan.shrink) return original(plan.reason);
      var turns = turnsOf(facts.orientation) ? browserTurns(bytes, facts) : Promise.resolve(true);
      return turns.then(function (browserTurnsIt) {
        plan = decide(facts, browserTurnsIt);
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
    MAX_EDGE: MAX_EDGE,
    JPEG_QUALITY: JPEG_QUALITY,
    inspect: inspect,
    decide: decide,
    turnsOf: turnsOf,
    uprightSize: uprightSize,
  };
})();
