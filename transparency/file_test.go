package transparency

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleEntry is a well-formed entry (whose signatures verify nothing).
func sampleEntry() Entry {
	return Entry{
		PublishedHead: strings.Repeat("ab", 32), RekorURL: "http://127.0.0.1:3380",
		UUID: strings.Repeat("0", 16) + strings.Repeat("cd", 32), LogIndex: 3, LogID: strings.Repeat("ef", 32),
		IntegratedTime: 1790000000, Body: "e30=",
		InclusionProof: InclusionProof{LogIndex: 3, TreeSize: 4, RootHash: strings.Repeat("12", 32),
			Hashes: []string{strings.Repeat("34", 32)}, Checkpoint: "ksk-test-rekor - 1\n4\nEjQ=\n\n— ksk-test-rekor abcd\n"},
		SignedEntryTimestamp: "MEUCIQ==",
	}
}

func TestFileRoundTrip(t *testing.T) {
	f := &File{Format: FileFormat, Entries: []Entry{sampleEntry(), sampleEntry()}}
	f.Entries[1].InclusionProof.Hashes = nil
	data, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ParseFile(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	again, _ := Marshal(g)
	if !bytes.Equal(again, data) {
		t.Fatal("Marshal(ParseFile(b)) != b")
	}
	if !strings.HasSuffix(string(data), "}\n") || !strings.Contains(string(data), "\n  \"entries\": [\n") {
		t.Errorf("not the documented layout:\n%s", data)
	}
	// No HTML escaping: the checkpoint's em dash and any <>& stay as they are.
	if !strings.Contains(string(data), "— ksk-test-rekor") {
		t.Errorf("checkpoint escaped:\n%s", data)
	}
	empty, _ := Marshal(&File{Format: FileFormat})
	if !strings.Contains(string(empty), `"entries": []`) {
		t.Errorf("empty file: %s", empty)
	}
}

func TestParseFileRejects(t *testing.T) {
	good, _ := Marshal(&File{Format: FileFormat, Entries: []Entry{sampleEntry()}})
	edit := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("%q not in the sample", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "EOF"},
		{"not JSON", []byte("hello"), "invalid character"},
		{"two objects", append(append([]byte{}, good...), good...), "after the JSON object"},
		{"unknown member", edit(`"format"`, `"extra": 1, "format"`), "unknown field"},
		{"wrong format", edit(FileFormat, "ksk-rekor-v2"), "format"},
		{"reformatted", bytes.ReplaceAll(good, []byte("  "), []byte("\t")), "canonical"},
		{"no final newline", bytes.TrimSuffix(good, []byte("\n")), "canonical"},
		{"upper-case hex head", edit(strings.Repeat("ab", 32), strings.Repeat("AB", 32)), "published_head"},
		{"short uuid", edit(strings.Repeat("cd", 32), "cd"), "uuid"},
		{"bad URL", edit("http://127.0.0.1:3380", "file:///etc/passwd"), "rekor_url"},
		{"negative index", edit(`"log_index": 3,`, `"log_index": -3,`), "negative"},
		{"body not base64", edit(`"e30="`, `"e30"`), "body"},
		{"proof outside the tree", edit(`"tree_size": 4`, `"tree_size": 3`), "outside"},
		{"bad proof hash", edit(strings.Repeat("34", 32), "zz"), "hash"},
		{"no checkpoint", edit(`"checkpoint": "ksk-test-rekor`, `"checkpoint": "", "x": "`), "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile(tt.data)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrMalformed mentioning %q", err, tt.want)
			}
		})
	}
	big := make([]byte, MaxFileBytes+1)
	if _, err := ParseFile(big); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "larger") {
		t.Errorf("oversized: %v", err)
	}
}

func TestReadAndLoadFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.rekor.json")
	if _, _, err := ReadFile(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile missing: %v", err)
	}
	f, old, exists, err := LoadFile(missing)
	if err != nil || exists || old != nil || f.Format != FileFormat || len(f.Entries) != 0 {
		t.Errorf("LoadFile missing: %+v %v %v", f, exists, err)
	}
	bad := filepath.Join(dir, "bad.rekor.json")
	os.WriteFile(bad, []byte("{}"), 0o644)
	if _, _, _, err := LoadFile(bad); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), bad) {
		t.Errorf("LoadFile malformed: %v", err)
	}
	if got := DefaultPath("/x/ceremony.log"); got != "/x/ceremony.log.rekor.json" {
		t.Errorf("DefaultPath = %s", got)
	}
}

// FuzzParseFile checks that the entry file parser never panics, that
// whatever it accepts is exactly its own canonical encoding, and that
// verifying an accepted entry never panics either.
func FuzzParseFile(f *testing.F) {
	good, _ := Marshal(&File{Format: FileFormat, Entries: []Entry{sampleEntry()}})
	f.Add(good)
	f.Add([]byte(`{"format":"ksk-rekor-v1","entries":[]}`))
	if b, err := os.ReadFile(filepath.Join("testdata", "ceremony.log.rekor.json")); err == nil {
		f.Add(b)
	}
	key := newP256Pub()
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ParseFile(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		again, err := Marshal(g)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted a non-canonical file")
		}
		for i := range g.Entries {
			if _, err := VerifyEntry(&g.Entries[i], key); err == nil {
				t.Fatalf("entry %d verified under a random key", i)
			}
		}
	})
}
