// Loaded by tests/reports-browser.bash into a copy of a report, after its
// own scripts: at load, what a reader would meet, as JSON in
// <body data-check>: JavaScript errors (window errors, console.error,
// rejected promises, recorded from the first script on), images and broken
// ones, sortable headers, filter boxes; every numeric column of every
// sortable table clicked twice (ascending, then descending: numbers in
// order, NA together at one end); the first filter box given the text of a
// cell (some rows stay, the others hide).
window.addEventListener('load', function () {
  var r = { errors: __errs.length, msgs: __errs.join(' | '), imgs: 0, broken: 0, headers: 0, filters: 0,
    sortcols: 0, sorted: 'yes', filter: 'no filter box' };
  document.querySelectorAll('img').forEach(function (i) {
    r.imgs++;
    if (!i.complete || i.naturalWidth === 0) r.broken++;
  });
  r.headers = document.querySelectorAll('th[role=columnheader]').length;
  var boxes = document.querySelectorAll('input.filter');
  r.filters = boxes.length;
  var col = function (t, j) {
    return [].map.call(t.tBodies[0].rows, function (row) { return parseFloat(row.cells[j].getAttribute('data-sort')); });
  };
  // v sorted in direction s (1 up, -1 down), NaN (NA) in one block at an end
  var ordered = function (v, s) {
    var x = v.filter(function (a) { return !isNaN(a); });
    for (var k = 1; k < x.length; k++) if (s * (x[k] - x[k - 1]) < 0) return false;
    var first = v.findIndex(function (a) { return isNaN(a); });
    if (first < 0) return true;
    var last = v.length - 1 - v.slice().reverse().findIndex(function (a) { return isNaN(a); });
    return (first === 0 || last === v.length - 1) && v.slice(first, last + 1).every(function (a) { return isNaN(a); });
  };
  document.querySelectorAll('table.sortable').forEach(function (t, ti) {
    if (!t.tBodies[0] || t.tBodies[0].rows.length < 3) return;
    [].forEach.call(t.tHead.rows[0].cells, function (th, j) {
      var m = th.getAttribute('data-sort-method');
      if (m !== 'num' && m !== 'number') return;
      if (col(t, j).filter(function (a) { return !isNaN(a); }).length < 3) return;
      r.sortcols++;
      th.click(); var a = col(t, j);
      th.click(); var b = col(t, j);
      if (!(ordered(a, 1) && ordered(b, -1)) && r.sorted === 'yes')
        r.sorted = 'no: table ' + ti + ' column ' + th.textContent + ': ' + a.join(',') + ' / ' + b.join(',');
    });
  });
  if (boxes.length) {
    var box = boxes[0], t = box.nextElementSibling;
    if (t && !t.matches('table')) t = t.querySelector('table');
    var rows = t.tBodies[0].rows, want = rows[rows.length - 1].cells[0].textContent;
    box.value = want;
    box.dispatchEvent(new Event('input'));
    var shown = [].filter.call(rows, function (row) { return row.style.display !== 'none'; });
    var ok = shown.length > 0 && shown.every(function (row) { return row.textContent.toLowerCase().indexOf(want.toLowerCase()) >= 0; });
    var all = [].every.call(rows, function (row) { return row.textContent.toLowerCase().indexOf(want.toLowerCase()) >= 0; });
    r.filter = ok && (all || shown.length < rows.length) ? 'yes' : 'no: ' + shown.length + ' of ' + rows.length + ' rows for ' + want;
  }
  document.body.setAttribute('data-check', JSON.stringify(r));
});
