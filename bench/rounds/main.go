// Command rounds is bench/run.sh's ideal Go client: it reads the benchmark's
// secret from the Vault fake -n times, each read sent after the last one's
// answer, with net/http on one kept-alive connection, and exits. Timed at
// latency L and at 0 like keyexec, it measures what N sequential round
// trips cost a Go process on this machine, and nothing else.
//
//	VAULT_ADDR=… VAULT_TOKEN=… rounds -n 3
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	n := flag.Int("n", 1, "sequential reads")
	flag.Parse()
	url := os.Getenv("VAULT_ADDR") + "/v1/secret/data/llm/openai"
	for range *n {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			fail(err)
		}
		req.Header.Set("X-Vault-Token", os.Getenv("VAULT_TOKEN"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fail(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			fail(fmt.Errorf("GET %s: %s %v", url, resp.Status, err))
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rounds:", err)
	os.Exit(1)
}
