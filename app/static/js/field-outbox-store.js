// The field outbox's storage (field-outbox.js): one IndexedDB store of changes keyed by
// their id, or memory when the browser refuses IndexedDB (then a reload loses them).
(function () {
  "use strict";
  if (window.walkaroundFieldStore) return;

  var DB_NAME = "walkaround-fields";
  var STORE = "changes";

  var memory = new Map();
  var dbPromise = null;

  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve) {
      if (!window.indexedDB) return resolve(null);
      var req;
      try { req = indexedDB.open(DB_NAME, 1); } catch (e) { return resolve(null); }
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "id" }); };
      req.onsuccess = function () {
        var db = req.result;
        db.onversionchange = function () { db.close(); dbPromise = null; };
        resolve(db);
      };
      req.onerror = function () { resolve(null); };
      req.onblocked = function () { resolve(null); };
    });
    return dbPromise;
  }

  // Runs fn(store) in one transaction; resolves when it is committed.
  function run(mode, fn) {
    return openDb().then(function (db) {
      if (!db) return fn(null);
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result;
        Promise.resolve(fn(tx.objectStore(STORE))).then(function (r) { result = r; });
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error || new Error("aborted")); };
      });
    });
  }

  function putAll(items) {
    return run("readwrite", function (store) {
      items.forEach(function (item) {
        if (store) store.put(item); else memory.set(item.id, item);
      });
    }).catch(function () { items.forEach(function (item) { memory.set(item.id, item); }); });
  }

  function remove(ids) {
    ids.forEach(function (id) { memory.delete(id); });
    return run("readwrite", function (store) {
      if (store) ids.forEach(function (id) { store.delete(id); });
    }).catch(function () {});
  }

  function allItems() {
    return run("readonly", function (store) {
      if (!store) return [];
      return new Promise(function (resolve) {
        var req = store.getAll();
        req.onsuccess = function () { resolve(req.result || []); };
        req.onerror = function () { resolve([]); };
      });
    }).catch(function () { return []; }).then(function (items) {
      return items.concat(Array.from(memory.values())).sort(function (a, b) { return a.seq - b.seq; });
    });
  }

  window.walkaroundFieldStore = { putAll: putAll, remove: remove, all: allItems };
})();
