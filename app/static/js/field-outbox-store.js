// The field outbox's storage (field-outbox.js): one IndexedDB store of changes keyed by
// their id (idb-store.js), or memory when the browser refuses IndexedDB (then a reload loses them).
(function () {
  "use strict";
  if (window.walkaroundFieldStore) return;

  var DB_NAME = "walkaround-fields";
  var STORE = "changes";

  var memory = new Map();
  var run = window.walkaroundIdb(DB_NAME, STORE, "id").run;

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
