# Draws the echo plots of bench/results from echo.dat, which bench/run.py
# writes: one block per model and message size, each line "connections
# requests/s p99-ms", p99 NaN where requests failed. run.py sets the variables:
#   terminal  pngcairo, or png where cairo is missing
#   data      the echo.dat path;  outdir  where the PNGs go
#   titles    one word per block ("epoll-128B");  styles  "model:size" per block
eval "set terminal ".terminal." size 960,600"
set logscale x
set xlabel "connections"
set grid
set key outside right top
n = words(titles)
model(i) = int(word(styles, i)[1:strstrt(word(styles, i), ":") - 1])
size(i) = int(word(styles, i)[strstrt(word(styles, i), ":") + 1:])

set output outdir."/echo_requests_per_s.png"
set title "sockserv echo: requests/s by connections (one bench thread)"
set ylabel "requests/s"
set yrange [0:*]
plot for [i=1:n] data index (i - 1) using 1:2 with linespoints \
    lc model(i) pt (size(i) == 1 ? 7 : 4) dt size(i) lw 2 title word(titles, i)

set output outdir."/echo_p99_latency.png"
set title "sockserv echo: p99 latency by connections (runs where every request was answered)"
set ylabel "p99 latency (ms)"
set logscale y
set yrange [*:*]
plot for [i=1:n] data index (i - 1) using 1:3 with linespoints \
    lc model(i) pt (size(i) == 1 ? 7 : 4) dt size(i) lw 2 title word(titles, i)
