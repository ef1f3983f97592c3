// Package lineread reads one line of operator input with a bound, so that
// an endless line (a stuck key, a file piped where a terminal was
// expected, a hostile input) is refused instead of buffered without end.
package lineread

import (
	"bufio"
	"errors"
	"fmt"
)

// MaxLine is the longest line ReadLine accepts by default: 64 KiB, far more
// than any answer, file name or passphrase a ceremony asks for.
const MaxLine = 64 << 10

// ErrTooLong means a line was longer than the bound; the rest of it was
// read and discarded, so the next read starts on the next line.
var ErrTooLong = errors.New("input line too long")

// ReadLine reads up to and including the next '\n' from r and returns it,
// at most max bytes (MaxLine when max <= 0). A longer line is consumed to
// its end and refused with ErrTooLong; nothing of it is returned. At end
// of input the bytes read so far are returned with the reader's error
// (io.EOF), as bufio.Reader.ReadString does.
func ReadLine(r *bufio.Reader, max int) (string, error) {
	if max <= 0 {
		max = MaxLine
	}
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			// Discard to the end of the line.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			clear(line)
			if err != nil {
				return "", fmt.Errorf("%w: more than %d bytes (%w)", ErrTooLong, max, err)
			}
			return "", fmt.Errorf("%w: more than %d bytes", ErrTooLong, max)
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		s := string(line)
		clear(line)
		return s, err
	}
}
