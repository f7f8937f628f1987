package main

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/keyexec/keyexec/sources"
)

// examplesDir is the repository's examples/, from cmd/keyexec.
const examplesDir = "../../examples"

// TestExamples keeps examples/ from rotting: every YAML file parses, every
// keyexec configuration in it (keyexec.yaml files and ConfigMap entries)
// loads as keyexec loads it, and every reference in the examples parses.
func TestExamples(t *testing.T) {
	t.Parallel()
	var files []string
	err := filepath.WalkDir(examplesDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	configs := 0
	for _, p := range files {
		name := filepath.Base(p)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(strings.TrimPrefix(p, examplesDir+"/"), func(t *testing.T) {
			checkReferences(t, data)
			switch {
			case name == "keyexec.yaml" || name == "keyexec.yml":
				configs++
				loadExampleConfig(t, p)
			case strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml"):
				for _, cfg := range parseYAMLDocs(t, data) {
					configs++
					loadExampleConfig(t, writeTemp(t, cfg))
				}
			}
		})
	}
	if configs < 4 {
		t.Errorf("found %d keyexec configurations under examples/, want at least 4", configs)
	}
}

// TestExampleDeploymentShapes checks what each example is there to show.
func TestExampleDeploymentShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		{"docker/Dockerfile", []string{"COPY --from=keyexec /keyexec", `ENTRYPOINT ["/usr/local/bin/keyexec", "run", "--"]`}},
		{"systemd/agents.service", []string{"LoadCredential=openai:", "OPENAI_API_KEY=cred://openai", "ExecStart=/usr/local/bin/keyexec run -- "}},
		{"kubernetes/deployment.yaml", []string{"kind: ServiceAccount", `args: ["install", "/keyexec-bin"]`, "emptyDir", "auth: kubernetes", `command: ["/keyexec-bin/keyexec", "run", "--"]`}},
		{"compose/docker-compose.yml", []string{"KEYEXEC_CONFIG", "secrets:"}},
		{"README.md", []string{"docker/Dockerfile", "systemd/agents.service", "kubernetes/deployment.yaml", "compose/docker-compose.yml"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join(examplesDir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !bytes.Contains(data, []byte(w)) {
					t.Errorf("%s lacks %q", tt.file, w)
				}
			}
		})
	}
}

// parseYAMLDocs parses every document of a YAML stream and returns the
// keyexec.yaml entries of ConfigMaps in it.
func parseYAMLDocs(t *testing.T, data []byte) []string {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var configs []string
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return configs
		}
		if err != nil {
			t.Fatalf("not valid YAML: %v", err)
		}
		if doc["kind"] != "ConfigMap" {
			continue
		}
		d, _ := doc["data"].(map[string]any)
		if cfg, ok := d["keyexec.yaml"].(string); ok {
			configs = append(configs, cfg)
		}
	}
}

// loadExampleConfig loads path as keyexec does with --config.
func loadExampleConfig(t *testing.T, path string) {
	t.Helper()
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	addFlags(fs)
	if err := fs.Parse([]string{"--config", path}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(fs, map[string]string{})
	if err != nil {
		t.Fatalf("keyexec does not load %s: %v", path, err)
	}
	for name, v := range cfg.Secrets {
		if sources.IsRef(v) {
			if _, err := sources.Parse(v); err != nil {
				t.Errorf("secrets.%s: %v", name, err)
			}
		}
	}
}

// refPattern finds references written anywhere in an example.
var refPattern = regexp.MustCompile("\\b(?:vault|awssm|file|cred|env)://[^\\s\"'`,}\\])]+")

func checkReferences(t *testing.T, data []byte) {
	t.Helper()
	for _, m := range refPattern.FindAll(data, -1) {
		if _, err := sources.Parse(string(m)); err != nil {
			t.Errorf("reference %s: %v", m, err)
		}
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keyexec.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
