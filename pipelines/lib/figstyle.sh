# figstyle.sh: sourced by the figure scripts (heatmap, curves, bars,
# errbars, scatter): one way to quote text for gnuplot, wrap titles and write
# OUTBASE.png and OUTBASE.svg in the style of style.gp.
FIG_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FIG_FONT=${FIG_FONT:-Sans,11}
# text for a single-quoted gnuplot string (a quote is written twice)
gq() { printf '%s' "${1//\'/\'\'}"; }
# text for a double-quoted gnuplot string
gdq() { local t=${1//\\/\\\\}; printf '%s' "${t//\"/\\\"}"; }
# fig_wrap TEXT [WIDTH]: TEXT for a double-quoted gnuplot string, broken
# into lines of at most WIDTH characters (default 80) so a title stays on
# the image.
fig_wrap() {
	local w=${2:-80}
	gdq "$1" | fold -s -w "$w" | sed 's/ *$//' | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }'
}
# fig_lines TEXT [WIDTH]: how many lines fig_wrap makes of TEXT
fig_lines() { printf '%s' "$1" | fold -s -w "${2:-80}" | wc -l | awk '{ print $1 + 1 }'; }
# fig_render OUTBASE WIDTH HEIGHT < GNUPLOT: the script on stdin, after the
# terminal and style.gp, once as PNG and once as SVG. gnuplot's errors and
# warnings go to stderr (never hidden).
fig_render() {
	local out=$1 w=$2 h=$3 body term t
	body=$(cat)
	for term in png svg; do
		case $term in
		png) t="set terminal pngcairo size $w,$h font '$FIG_FONT' noenhanced" ;;
		svg) t="set terminal svg size $w,$h font '$FIG_FONT' background rgb 'white' noenhanced" ;;
		esac
		printf '%s\nset output '\''%s'\''\nload '\''%s/style.gp'\''\n%s\nunset output\n' \
			"$t" "$(gq "$out.$term")" "$(gq "$FIG_LIB")" "$body" | gnuplot
	done
}
# fig_natsort: lines in natural order (layer2 before layer10, 5000 before 10000)
fig_natsort() { sort -V "$@"; }
