set terminal pngcairo size 1400,640 font ",10"
set output "first-write.png"
set multiplot layout 1,2 title "first writes after N snapshots (6.12.117+deb12-amd64, origin 256 MiB, brd)"
set xlabel "snapshots (N)"
set xtics ("0" 0, "1" 1, "4" 2, "16" 3, "64" 4, "256" 5, "1024" 6)
set logscale y
set key outside bottom center horizontal
set grid
set ylabel "sequential 1 MiB, MB/s"
plot "first-write.dat" index 0 using 1:3 with linespoints lw 2 lc rgb "#000000" dt 1 title "raw 64 KiB", "first-write.dat" index 1 using 1:3 with linespoints lw 2 lc rgb "#000000" dt 2 title "raw 8 KiB", "first-write.dat" index 2 using 1:3 with linespoints lw 2 lc rgb "#d62728" dt 1 title "ssnap 64 KiB", "first-write.dat" index 3 using 1:3 with linespoints lw 2 lc rgb "#d62728" dt 2 title "ssnap 8 KiB", "first-write.dat" index 4 using 1:3 with linespoints lw 2 lc rgb "#1f77b4" dt 1 title "classic 64 KiB", "first-write.dat" index 5 using 1:3 with linespoints lw 2 lc rgb "#1f77b4" dt 2 title "classic 8 KiB", "first-write.dat" index 6 using 1:3 with linespoints lw 2 lc rgb "#2ca02c" dt 1 title "thin 64 KiB"
set ylabel "random 4 KiB, IOPS"
plot "first-write.dat" index 0 using 1:4 with linespoints lw 2 lc rgb "#000000" dt 1 title "raw 64 KiB", "first-write.dat" index 1 using 1:4 with linespoints lw 2 lc rgb "#000000" dt 2 title "raw 8 KiB", "first-write.dat" index 2 using 1:4 with linespoints lw 2 lc rgb "#d62728" dt 1 title "ssnap 64 KiB", "first-write.dat" index 3 using 1:4 with linespoints lw 2 lc rgb "#d62728" dt 2 title "ssnap 8 KiB", "first-write.dat" index 4 using 1:4 with linespoints lw 2 lc rgb "#1f77b4" dt 1 title "classic 64 KiB", "first-write.dat" index 5 using 1:4 with linespoints lw 2 lc rgb "#1f77b4" dt 2 title "classic 8 KiB", "first-write.dat" index 6 using 1:4 with linespoints lw 2 lc rgb "#2ca02c" dt 1 title "thin 64 KiB"
unset multiplot
