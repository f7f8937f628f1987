// Command timeit is bench/run.sh's stand-in for hyperfine when hyperfine is
// not installed: it runs a command (no shell) a number of times after a
// warm-up and prints the mean, standard deviation and minimum wall time in
// milliseconds, in the same columns the script reads from hyperfine.
//
// With -hyperfine FILE it reads a hyperfine --export-json file instead and
// prints the same line for each command in it.
//
//	timeit -runs 30 -warmup 3 -- ./keyexec run --no-probe -- true
//	timeit -hyperfine out.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"time"
)

func main() {
	runs := flag.Int("runs", 30, "measured runs")
	warmup := flag.Int("warmup", 3, "unmeasured runs first")
	hf := flag.String("hyperfine", "", "print the means of a hyperfine --export-json file")
	flag.Parse()
	if *hf != "" {
		if err := readHyperfine(*hf); err != nil {
			fmt.Fprintln(os.Stderr, "timeit:", err)
			os.Exit(1)
		}
		return
	}
	argv := flag.Args()
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "usage: timeit [-runs N] [-warmup N] -- COMMAND [ARG...]")
		os.Exit(64)
	}
	times := make([]float64, 0, *runs)
	for i := 0; i < *warmup+*runs; i++ {
		cmd := exec.Command(argv[0], argv[1:]...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "timeit: %v: %v\n%s", argv, err, out)
			os.Exit(1)
		}
		if i >= *warmup {
			times = append(times, float64(time.Since(start).Microseconds())/1000)
		}
	}
	mean, sd, lo := stats(times)
	fmt.Printf("%.2f %.2f %.2f\n", mean, sd, lo)
}

func stats(xs []float64) (mean, sd, lo float64) {
	lo = math.Inf(1)
	for _, x := range xs {
		mean += x
		lo = min(lo, x)
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	if len(xs) > 1 {
		sd = math.Sqrt(sd / float64(len(xs)-1))
	}
	return mean, sd, lo
}

func readHyperfine(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var out struct {
		Results []struct {
			Mean, Stddev, Min float64
		}
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, r := range out.Results {
		fmt.Printf("%.2f %.2f %.2f\n", r.Mean*1000, r.Stddev*1000, r.Min*1000)
	}
	return nil
}
