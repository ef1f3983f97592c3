package lineread

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name, in string
		max      int
		want     []string // successive lines; "!" marks ErrTooLong
		last     error
	}{
		{"short lines", "a\nbc\n", 10, []string{"a\n", "bc\n"}, io.EOF},
		{"exactly the bound", "abcd\n", 5, []string{"abcd\n"}, io.EOF},
		{"one over, then the next line", "abcde\nok\n", 5, []string{"!", "ok\n"}, io.EOF},
		{"longer than bufio's buffer", long + long + "\nnext\n", 150, []string{"!", "next\n"}, io.EOF},
		{"no newline at the end", "tail", 10, []string{}, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bufio.NewReaderSize(strings.NewReader(tt.in), 16)
			for _, w := range tt.want {
				got, err := ReadLine(r, tt.max)
				if w == "!" {
					if !errors.Is(err, ErrTooLong) || got != "" {
						t.Fatalf("got %q, %v; want ErrTooLong", got, err)
					}
					continue
				}
				if err != nil || got != w {
					t.Fatalf("got %q, %v; want %q", got, err, w)
				}
			}
			if _, err := ReadLine(r, tt.max); !errors.Is(err, tt.last) {
				t.Errorf("last read: %v, want %v", err, tt.last)
			}
		})
	}
}

// TestReadLineEndless: a line of a megabyte with no newline is refused
// with a bound of 64 KiB, not returned.
func TestReadLineEndless(t *testing.T) {
	r := bufio.NewReader(io.LimitReader(zeros{}, 1<<20))
	if got, err := ReadLine(r, 0); !errors.Is(err, ErrTooLong) || got != "" {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'z'
	}
	return len(p), nil
}

func FuzzReadLine(f *testing.F) {
	f.Add("a\nb\n", 3)
	f.Fuzz(func(t *testing.T, in string, max int) {
		max = int(uint(max)%64) + 1
		r := bufio.NewReaderSize(strings.NewReader(in), 16)
		for {
			s, err := ReadLine(r, max)
			if len(s) > max {
				t.Fatalf("returned %d bytes, bound %d", len(s), max)
			}
			if err != nil && !errors.Is(err, ErrTooLong) {
				return
			}
		}
	})
}
