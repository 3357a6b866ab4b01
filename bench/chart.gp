# bench/chart.gp - the benchmark chart, drawn by bench/run:
#
#   gnuplot -e "data='X.dat'; out='X.png'; mode='bars'; \
#               engines='native xapian fts5 ...'; kinds='term and ...'; \
#               ttl='...'; ymin=0.1" bench/chart.gp
#
# mode 'bars' (one corpus size): per query kind, one bar per engine up to
#   the median latency, with a whisker up to p99.  Data: a header line, then
#   one line per kind: kind, then p50 and p99 (ms) for each engine in order.
# mode 'lines' (several sizes): one panel per query kind, latency (p50
#   solid, p99 dashed) against index size in passages for each engine.
#   Data: a header line, then one line per size: passages, then for each
#   kind in order and each engine in order its p50 and p99 (ms).
# Both use logarithmic latency axes: the engines differ by orders of
# magnitude on some kinds.

if (!exists("ttl")) ttl = ""
if (!exists("ymin")) ymin = 0.01
ne = words(engines)
nk = words(kinds)
array colors[5] = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e"]

set terminal pngcairo size 1200,700 font "sans,10" noenhanced
set output out
set grid ytics
set logscale y
set format y "%g"

if (mode eq "bars") {
    set title ttl
    set style data histogram
    set style histogram errorbars gap 2 lw 1.5
    set style fill solid 0.85 border -1
    set ylabel "latency (ms): bar = p50, whisker = p99"
    set xlabel "query kind"
    set key top left
    set yrange [ymin:*]
    plot for [i=1:ne] data skip 1 \
        using (column(2*i)):(column(2*i)):(column(2*i+1)):xtic(1) \
        title word(engines, i) lc rgb colors[(i-1)%5+1]
} else {
    set multiplot layout 2,3 title ttl
    set logscale x
    set xlabel "index size (million passages)"
    set ylabel "latency (ms): solid p50, dashed p99"
    set key top left
    set yrange [ymin:*]
    set autoscale xfix
    set offsets graph 0.08, graph 0.08, 0, 0
    do for [k=1:nk] {
        set title word(kinds, k)
        plot for [i=1:ne] data skip 1 \
            using ($1/1e6):(column(2*((k-1)*ne + i))) \
            title word(engines, i) with linespoints \
            lw 2 pt 7 lc rgb colors[(i-1)%5+1], \
            for [i=1:ne] data skip 1 \
            using ($1/1e6):(column(2*((k-1)*ne + i) + 1)) \
            notitle with linespoints \
            lw 1 dt 2 pt 6 lc rgb colors[(i-1)%5+1]
    }
    unset multiplot
}
