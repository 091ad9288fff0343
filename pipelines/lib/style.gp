# The one figure style of attnkit's pipelines: every figure script
# (heatmap, curves, bars, errbars, scatter) loads this file after setting its
# terminal (figstyle.sh: fig_render). New figures follow it:
#   - series colours: Okabe-Ito, colour-blind safe, in this order;
#   - chance, null and "no difference" lines: dashed dark grey (@CHANCE);
#   - heatmaps: a diverging palette with chance (AUROC or 1 - quantile 0.5,
#     Spearman 0) at the neutral colour (@DIVERGING, defined by heatmap with
#     the figure's range), a sequential palette where nothing is chance
#     (@SEQUENTIAL); NA cells hatched grey; one colour scale for all panels;
#   - titles short enough to stay on the image (figstyle.sh wraps them), keys
#     below the plot so that the plot keeps the width.
set border 3 lw 1 lc rgb '#444444'
set tics nomirror out scale 0.6 textcolor rgb '#222222'
set grid ytics lc rgb '#e3e3e3' lw 1 dt 1
set grid back
set key below horizontal noenhanced samplen 2.5 spacing 1.1 width 1
set linetype 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.1
set linetype 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.1
set linetype 3 lc rgb '#009E73' lw 2 pt 9 ps 1.3
set linetype 4 lc rgb '#CC79A7' lw 2 pt 11 ps 1.3
set linetype 5 lc rgb '#E69F00' lw 2 pt 13 ps 1.3
set linetype 6 lc rgb '#56B4E9' lw 2 pt 15 ps 1.1
set linetype 7 lc rgb '#000000' lw 2 pt 7 ps 1.1
set linetype 8 lc rgb '#999999' lw 2 pt 5 ps 1.1
set linetype cycle 8
# chance / null / ratio = 1 / delta = 0 lines
CHANCE = "dt 2 lw 1.5 lc rgb '#555555'"
# sequential: white to dark blue (counts, coherence: no chance level)
SEQUENTIAL = "set palette defined (0 '#f7fbff', 0.25 '#c6dbef', 0.5 '#6baed6', 0.75 '#2171b5', 1 '#08306b')"
# NA cells: grey hatching
NAFILL = "fs pattern 4 transparent lc rgb '#888888'"
