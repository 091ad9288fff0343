# Loaded by the reports suites: browser_check REPORT renders a copy of REPORT
# in headless Chromium (Debian chromium) with tests/reports-check.js and
# prints its JSON verdict (errors, imgs, broken, headers, filters, sortcols,
# sorted, filter), read from --dump-dom. Needs $BATS_FILE_TMPDIR for the
# browser's profile.
browser_check() {
	local page=$1 copy=${1%.html}.check.html
	[ "$(tail -1 "$page")" = '</body></html>' ] || { echo "browser_check: $page does not end with </body></html>" >&2; return 1; }
	{
		sed -e '$d' -e '0,/<head>/s//<head><script>window.__errs = []; window.addEventListener("error", function (e) { __errs.push(e.message || ("cannot load " + (e.target \&\& e.target.src))) }, true); window.addEventListener("unhandledrejection", function (e) { __errs.push("rejected: " + e.reason) }); (function (f) { console.error = function () { __errs.push("console.error: " + [].join.call(arguments, " ")); f.apply(console, arguments) } })(console.error);<\/script>/' "$page"
		printf '<script>\n'
		cat "$TOP/tests/reports-check.js"
		printf '</script>\n</body></html>\n'
	} > "$copy"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$BATS_FILE_TMPDIR/chrome-profile" \
		--virtual-time-budget=4000 --dump-dom "file://$(cd "$(dirname "$copy")" && pwd)/$(basename "$copy")" 2> "$copy.log" |
		grep -o 'data-check="[^"]*"' | sed 's/^data-check="//; s/"$//; s/&quot;/"/g; s/&amp;/\&/g'
}
