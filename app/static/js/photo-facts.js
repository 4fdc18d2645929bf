// What a photo file says about itself, read from its bytes: format (JPEG, PNG, WebP),
// stored size, EXIF orientation and whether the file is complete; and from that, whether
// the tablet may shrink it (photo-prepare.js) or must send it as taken. Pure functions,
// no decoding: the server's pipeline (Pillow) is the reference for every rule here.
(function () {
  "use strict";
  if (window.walkaroundPhotoFacts) return;

  // The server's display size and limits (app/services/photo_pipeline.py): a larger upload
  // only costs bandwidth, and what the server refuses must reach it to be refused.
  var MAX_EDGE = 2000;
  var MAX_BYTES = 25 * 1024 * 1024;
  var MAX_PIXELS = 50 * 1000 * 1000;

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
    return { format: format, bytes: 0, width: 0, height: 0, components: 0, orientation: null,
             xmpOrientation: null, exifRaw: false, exif: null, complete: false };
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
    var i = 2, scanned = false;
    while (i + 2 <= b.length) {
      if (b[i] !== 0xff) return facts; // no marker where one must be: damaged
      var m = b[i + 1];
      if (m === 0xff) { i += 1; continue; }
      // The primary image's end: an MPO's second frame or a gain map may follow.
      if (m === 0xd9) { facts.complete = scanned && facts.width > 0; return facts; }
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
        facts.components = b[body + 5];
      }
      scanned = scanned || m === 0xda;
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
    var facts = newFacts(null); // HEIC and the rest: the browser may not even decode them
    if (b.length > 24 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
      facts = inspectJpeg(b);
    } else if (b.length > 24 && b[0] === 0x89 && text(b, 1, 8) === "PNG\r\n\x1a\n") {
      facts = inspectPng(b);
    } else if (b.length > 24 && text(b, 0, 4) === "RIFF" && text(b, 8, 12) === "WEBP") {
      facts = inspectWebp(b);
    }
    facts.bytes = b.length;
    return facts;
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
    if (facts.bytes > MAX_BYTES) return { shrink: false, reason: "too-large" };
    if (!facts.format) return { shrink: false, reason: "format" };
    if (!facts.complete) return { shrink: false, reason: "incomplete" };
    if (!facts.width || !facts.height) return { shrink: false, reason: "size-unknown" };
    if (facts.width * facts.height > MAX_PIXELS) {
      return { shrink: false, reason: "too-many-pixels" }; // and too much for a tablet's memory
    }
    if (Math.max(facts.width, facts.height) <= MAX_EDGE) return { shrink: false, reason: "fits" };
    // The server converts CMYK through its profile; a browser's own conversion is visibly off.
    if (facts.components === 4) return { shrink: false, reason: "cmyk" };
    if (facts.exifRaw) return { shrink: false, reason: "orientation-unknown" };
    if (turnsOf(orientationOf(facts))) {
      if (facts.orientation === null) return { shrink: false, reason: "orientation-xmp" };
      if (facts.format === "png") return { shrink: false, reason: "orientation-not-applied" };
      if (!browserTurns) return { shrink: false, reason: "orientation-not-applied" };
    }
    return { shrink: true, reason: "shrink" };
  }

  window.walkaroundPhotoFacts = {
    MAX_EDGE: MAX_EDGE,
    MAX_BYTES: MAX_BYTES,
    MAX_PIXELS: MAX_PIXELS,
    inspect: inspect,
    decide: decide,
    turnsOf: turnsOf,
    uprightSize: uprightSize,
  };
})();
