// Command timeit is bench/run.sh's stand-in for hyperfine when hyperfine is
// not installed, and its arithmetic either way. It runs a command (no
// shell) a number of times after a warm-up and prints the mean, standard
// deviation and minimum wall time in milliseconds, the columns the script
// reads; with -samples FILE it also appends each measured time to FILE, one
// per line, so that runs measured in several rounds can be pooled.
//
// With -hyperfine FILE it reads a hyperfine --export-json file instead
// (its first command), and with -stats FILE it prints the same line, with
// the count after it, for the times in a samples file.
//
//	timeit -runs 30 -warmup 3 -samples run.ms -- ./keyexec run --no-probe -- true
//	timeit -hyperfine out.json -samples run.ms
//	timeit -stats run.ms
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

func main() {
	runs := flag.Int("runs", 30, "measured runs")
	warmup := flag.Int("warmup", 3, "unmeasured runs first")
	hf := flag.String("hyperfine", "", "read the times of a hyperfine --export-json file")
	samples := flag.String("samples", "", "append each time, in ms, to this file")
	statsOf := flag.String("stats", "", "print the statistics of a samples file")
	flag.Parse()
	var times []float64
	var err error
	switch {
	case *statsOf != "":
		if times, err = readSamples(*statsOf); err == nil && len(times) == 0 {
			err = fmt.Errorf("%s holds no times", *statsOf)
		}
	case *hf != "":
		times, err = readHyperfine(*hf)
	default:
		times, err = measure(flag.Args(), *runs, *warmup)
	}
	if err == nil && *samples != "" {
		err = appendSamples(*samples, times)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "timeit:", err)
		os.Exit(1)
	}
	mean, sd, lo := stats(times)
	if *statsOf != "" {
		fmt.Printf("%.2f %.2f %.2f %d\n", mean, sd, lo, len(times))
		return
	}
	fmt.Printf("%.2f %.2f %.2f\n", mean, sd, lo)
}

func measure(argv []string, runs, warmup int) ([]float64, error) {
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "usage: timeit [-runs N] [-warmup N] [-samples FILE] -- COMMAND [ARG...]")
		os.Exit(64)
	}
	times := make([]float64, 0, runs)
	for i := 0; i < warmup+runs; i++ {
		cmd := exec.Command(argv[0], argv[1:]...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%v: %v\n%s", argv, err, out)
		}
		if i >= warmup {
			times = append(times, float64(time.Since(start).Microseconds())/1000)
		}
	}
	return times, nil
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

func readHyperfine(path string) ([]float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out struct {
		Results []struct {
			Times []float64 // seconds
		}
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out.Results) == 0 || len(out.Results[0].Times) == 0 {
		return nil, fmt.Errorf("%s: no times", path)
	}
	times := make([]float64, len(out.Results[0].Times))
	for i, s := range out.Results[0].Times {
		times[i] = s * 1000
	}
	return times, nil
}

func appendSamples(path string, times []float64) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, t := range times {
		fmt.Fprintf(w, "%.3f\n", t)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readSamples(path string) ([]float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var times []float64
	for _, line := range strings.Fields(string(data)) {
		t, err := strconv.ParseFloat(line, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		times = append(times, t)
	}
	return times, nil
}
