// One IndexedDB object store for the tablet's outboxes (photos, check-in changes):
// `walkaroundIdb(dbName, storeName, keyPath).run(mode, fn)` runs fn(store) in one
// transaction and resolves when it is committed; fn gets null when the browser refuses
// IndexedDB (private mode), and the caller keeps its items in memory instead.
(function () {
  "use strict";
  if (window.walkaroundIdb) return;

  window.walkaroundIdb = function (dbName, storeName, keyPath) {
    var dbPromise = null;

    function openDb() {
      if (dbPromise) return dbPromise;
      dbPromise = new Promise(function (resolve) {
        if (!window.indexedDB) return resolve(null);
        var req;
        try { req = indexedDB.open(dbName, 1); } catch (e) { return resolve(null); }
        req.onupgradeneeded = function () {
          if (!req.result.objectStoreNames.contains(storeName)) {
            req.result.createObjectStore(storeName, { keyPath: keyPath });
          }
        };
        req.onsuccess = function () {
          var db = req.result;
          // Another tab upgrading the schema must not be blocked by this one.
          db.onversionchange = function () { db.close(); dbPromise = null; };
          resolve(db);
        };
        req.onerror = function () { resolve(null); };
        req.onblocked = function () { resolve(null); };
      });
      return dbPromise;
    }

    function run(mode, fn) {
      return openDb().then(function (db) {
        if (!db) return fn(null);
        return new Promise(function (resolve, reject) {
          var tx = db.transaction(storeName, mode);
          var result;
          Promise.resolve(fn(tx.objectStore(storeName))).then(function (r) { result = r; });
          tx.oncomplete = function () { resolve(result); };
          tx.onerror = function () { reject(tx.error); };
          tx.onabort = function () { reject(tx.error || new Error("aborted")); };
        });
      });
    }

    return { run: run };
  };
})();
