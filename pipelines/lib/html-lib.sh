# html-lib.sh: sourced by the report scripts (report-*, html-head,
# tsv2html). One look for every report: a self-contained page (figures as
# data: URIs, the table script inlined, no network at view time) that can be
# mailed; sortable, filterable tables (vendored tablesort; plain tables
# without JavaScript); a link to every TSV and SVG behind it; dates from
# SOURCE_DATE_EPOCH when set, so two runs can be byte-compared.
HTML_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# html_esc: stdin with & < > " escaped
html_esc() { sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g'; }
# html_e TEXT: TEXT escaped
html_e() { printf '%s' "$1" | html_esc; }

# html_date: the report's date (SOURCE_DATE_EPOCH when set)
html_date() { date -u ${SOURCE_DATE_EPOCH:+-d @$SOURCE_DATE_EPOCH} '+%Y-%m-%d %H:%M UTC'; }

# html_head TITLE: the page up to the <h1>
html_head() {
	cat <<HTML
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="attnkit">
<title>$(html_e "$1")</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1180px; margin: 1.5em auto; padding: 0 1em; line-height: 1.45; color: #222 }
h1 { font-size: 1.6em; margin-bottom: 0.2em }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.15em; margin-top: 1.8em }
h3 { margin-bottom: 0.3em }
p.finding { background: #f3f7fb; border-left: 4px solid #0072B2; padding: 0.45em 0.8em; margin: 0.6em 0 }
p.finding.warn { background: #fdf6ec; border-left-color: #D55E00 }
p.note, .src, figcaption { color: #555; font-size: 90% }
nav.toc { font-size: 92%; columns: 2; margin: 0.5em 0 1em }
table { border-collapse: collapse; margin: 0.3em 0 0.4em; font-size: 88% }
td, th { border: 1px solid #d4d4d4; padding: 2px 8px; text-align: right; white-space: nowrap }
td.t, th.t { text-align: left }
td.t { white-space: normal; max-width: 36em }
th { background: #eef1f4; position: sticky; top: 0 }
tr.more td { text-align: left; color: #666; font-style: italic }
.scroll { max-height: 32em; overflow: auto; display: inline-block; max-width: 100% }
figure { margin: 0.8em 0 1.4em }
figure img { max-width: 100%; border: 1px solid #e2e2e2 }
code { background: #f4f4f4; padding: 1px 4px }
input.filter { margin: 0.4em 0 0.2em; padding: 2px 6px; width: 18em }
th[role=columnheader]:not(.no-sort) { cursor: pointer }
th[aria-sort=ascending]::after { content: " \25B2"; font-size: 70% }
th[aria-sort=descending]::after { content: " \25BC"; font-size: 70% }
</style>
<script>
$(cat "$HTML_LIB/vendor/tablesort/tablesort.js" "$HTML_LIB/vendor/tablesort/tablesort.number.js")
</script>
<script>
// attnkit: numeric columns (tsv2html: data-sort-method="num") sort on the
// full value in data-sort, e-notation included (tablesort.number.js strips
// the "e": 1e-05 would sort as 1.05); NA sorts below every number, so it
// gathers at one end.
Tablesort.extend('num', function () { return false; }, function (a, b) {
  var x = parseFloat(a), y = parseFloat(b);
  if (isNaN(x)) x = -Infinity;
  if (isNaN(y)) y = -Infinity;
  return x === y ? 0 : (y > x ? 1 : -1);
});
// Every table.sortable sorts by a click on its header (tablesort) and, from
// 8 rows, gets a box that keeps the rows containing its text.
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('table.sortable').forEach(function (t) {
    new Tablesort(t);
    var rows = t.tBodies[0] ? t.tBodies[0].rows : [];
    if (rows.length < 8) return;
    var box = document.createElement('input');
    box.type = 'search'; box.className = 'filter'; box.placeholder = 'filter rows (e.g. a gene, a layer)';
    box.addEventListener('input', function () {
      var q = box.value.toLowerCase();
      [].forEach.call(rows, function (r) {
        r.style.display = (!q || r.textContent.toLowerCase().indexOf(q) >= 0) ? '' : 'none';
      });
    });
    var at = t.parentNode.classList.contains('scroll') ? t.parentNode : t;
    at.parentNode.insertBefore(box, at);
  });
});
</script>
</head><body>
<h1>$(html_e "$1")</h1>
HTML
}

# html_tail: the end of the page
html_tail() { printf '<p class="note">Written by attnkit on %s.</p>\n</body></html>\n' "$(html_date)"; }

# html_say TEXT [warn]: one sentence that says what the data show
html_say() { printf '<p class="finding%s">%s</p>\n' "${2:+ warn}" "$1"; }

# html_rel OUT FILE: FILE's path relative to OUT (where report.html lies)
html_rel() { local f=$2; printf '%s' "${f#"${1%/}"/}"; }

# html_figure OUT PNG CAPTION: the PNG embedded (data: URI), its caption,
# and links to the SVG beside it and to the tables named in TABLES (set by
# the caller; optional). A missing PNG says so instead of a broken image.
html_figure() {
	local out=$1 png=$2 cap=$3 svg=${2%.png}.svg alt
	alt=$(html_e "$3")
	echo "<figure>"
	if [ -s "$png" ]; then
		printf '<img alt="%s" src="data:image/png;base64,' "$alt"
		base64 -w0 "$png"
		echo '">'
	else
		echo "<p class=\"finding warn\">Figure $(html_e "$(html_rel "$out" "$png")") was not made.</p>"
	fi
	printf '<figcaption>%s' "$cap"
	[ ! -s "$svg" ] || printf ' <a href="%s">SVG</a>' "$(html_rel "$out" "$svg" | html_esc)"
	local t
	for t in ${TABLES:-}; do
		[ ! -e "$t" ] || printf ' <a href="%s">%s</a>' "$(html_rel "$out" "$t" | html_esc)" "$(html_rel "$out" "$t" | html_esc)"
	done
	echo "</figcaption></figure>"
}

# html_table OUT TSV [MAXROWS] [CAPTION]: a sortable table of a TSV with a
# link to the file
html_table() {
	local out=$1 tsv=$2 max=${3:-40} cap=${4:-}
	[ -z "$cap" ] || echo "<p class=\"src\">$cap</p>"
	echo '<div class="scroll">'
	"$HTML_LIB/tsv2html" "$tsv" "$max"
	echo '</div>'
	printf '<p class="src">Table: <a href="%s">%s</a></p>\n' "$(html_rel "$out" "$tsv" | html_esc)" "$(html_rel "$out" "$tsv" | html_esc)"
}

# html_links OUT: every TSV and SVG under OUT (not the per-layer caches
# deeper than MODEL/CATEGORY/), as links
html_links() {
	local out=$1
	echo "<h2 id=\"files\">Files behind this page</h2>"
	echo "<p class=\"note\">Relative to this report's directory; figures as SVG (vector) beside the PNG shown.</p>"
	echo "<ul class=\"files\">"
	(cd "$out" && find . -maxdepth 3 \( -name '*.tsv' -o -name '*.svg' -o -name 'labels.tsv.gz' \) -not -name '.*' | sed 's|^\./||' | sort -V) |
		while IFS= read -r f; do printf '<li><a href="%s">%s</a></li>\n' "$(html_e "$f")" "$(html_e "$f")"; done
	echo "</ul>"
}

# html_models DIR...: the model table from each model's meta.tsv, genes.txt
# and resid/ (layers, heads, d, genes, id type, family, categories)
html_models() {
	local d
	echo '<table class="sortable"><thead><tr><th class="t">model</th><th class="t">family</th><th>layers</th><th>heads</th><th>d</th><th>genes</th><th class="t">id type</th><th class="t">categories</th></tr></thead><tbody>'
	for d in "$@"; do
		d=${d%/}
		awk -F'\t' -v m="${d##*/}" -v g="$(grep -c . "$d/genes.txt" 2>/dev/null || echo NA)" -v cats="$(ls "$d/resid" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')" '
			function e(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); return s == "" ? "NA" : s }
			{ v[$1] = $2 }
			END { printf "<tr><td class=\"t\">%s</td><td class=\"t\">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class=\"t\">%s</td><td class=\"t\">%s</td></tr>\n",
				e(m), e(v["family"]), e(v["n_layers"]), e(v["n_heads"]), e(v["d_model"] != "" ? v["d_model"] : v["d"]), g, e(v["id_type"]), e(cats) }' "$d/meta.tsv"
	done
	echo '</tbody></table>'
}

# html_num N: N with thousands separators (89102 -> 89,102)
html_num() { printf '%s' "$1" | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|[^0-9]\)/\1,\2\3/; ta'; }
