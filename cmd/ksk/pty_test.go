package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/internal/testenv"
)

// ptySession drives a process on a pseudo-terminal as a person would:
// it waits for a prompt (output that ends in ": " and then stays quiet)
// and types a line.
type ptySession struct {
	t    *testing.T
	f    *os.File
	mu   sync.Mutex
	buf  bytes.Buffer
	seen int // how much of buf the last prompt consumed
	done chan struct{}
}

func startPTY(t *testing.T, cmd *exec.Cmd) *ptySession {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatalf("start on a pseudo-terminal: %v", err)
	}
	s := &ptySession{t: t, f: f, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			s.mu.Lock()
			s.buf.Write(b[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { f.Close() })
	return s
}

// prompt waits for the next prompt and returns the output since the last
// one; ok is false when the process ended instead.
func (s *ptySession) prompt() (string, bool) {
	deadline := time.Now().Add(60 * time.Second)
	last, quiet := -1, time.Time{}
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.buf.String()[s.seen:], false
		default:
		}
		s.mu.Lock()
		out := s.buf.String()
		s.mu.Unlock()
		if len(out) != last {
			last, quiet = len(out), time.Now()
		} else if time.Since(quiet) > 150*time.Millisecond && strings.HasSuffix(strings.TrimRight(out, " "), ":") && len(out) > s.seen {
			text := out[s.seen:]
			s.seen = len(out)
			return text, true
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatalf("no prompt within 60 s; output so far:\n%s", lastLines(s.buf.String(), 30))
	return "", false
}

func (s *ptySession) send(line string) {
	if _, err := io.WriteString(s.f, line+"\r"); err != nil {
		s.t.Fatalf("type %q: %v", line, err)
	}
}

// TestCeremonyPTYSlips runs the quarterly signing at a real (pseudo-)
// terminal with the slips people make in the room: an empty line and
// "Yes" at confirmations, a remark with !note, a wrong witness signature
// path, a wrong passphrase, the same credential twice and a misheard PGP
// word. Each is asked again, none ends the ceremony, each is a note in
// the log, no secret reaches the screen or the log, and the SKR is byte
// for byte the one a run from an answers file signs.
func TestCeremonyPTYSlips(t *testing.T) {
	sshKeygen := testenv.RequireTool(t, "ssh-keygen", "openssh-client")
	e := stageCeremony(t)
	bin := buildFaultKSK(t)

	code, out, errOut := runKSK(t, "", e.quarterlyArgs("ref", e.path("quarterly-answers.yaml"))...)
	if code != 0 {
		t.Fatalf("reference run: exit %d\n%s%s", code, lastLines(out, 20), errOut)
	}
	ref := readFileT(t, e.path("out", "skr-ref.xml"))

	headRe := regexp.MustCompile(`echo ([0-9a-f]{64}) \| ssh-keygen`)
	whoRe := regexp.MustCompile(`\] (\w+): sign the head`)
	words := strings.Fields(e.words)
	creds := []string{"co1", "co1", "co3", "co6"} // co1 twice: a duplicate
	var confirms, sigAsks, passAsks, wordAsks, bags int
	var credNow string
	screen, err := ptyCeremony(t, e, bin, "pty", func(last, text, all string) string {
		switch {
		case strings.Contains(last, "type yes to confirm, or no to record an exception:"):
			confirms++
			switch confirms {
			case 1:
				return "" // Enter instead of yes
			case 2:
				return "Yes"
			case 3:
				return "!note camera 2 restarted"
			}
			return "yes"
		case strings.Contains(last, "Signature file:"):
			sigAsks++
			if sigAsks == 1 {
				return e.path("witnesses", "no-such.sig") // a wrong path
			}
			return witnessSignature(t, e, sshKeygen, headRe, whoRe, all)
		case strings.Contains(last, "Credential file (empty line"):
			if len(creds) == 0 {
				return ""
			}
			credNow, creds = creds[0], creds[1:]
			return e.path("credentials", "kmf-east-co."+credNow+".age")
		case strings.Contains(last, "Passphrase for"):
			passAsks++
			if passAsks == 1 {
				return "not-the-passphrase"
			}
			return coPassphrase(e, credNow)
		case strings.Contains(last, "tamper-evident bag number:"):
			bags++
			if bags == 1 {
				return "" // nothing read out yet
			}
			return fmt.Sprintf("BB%04d", bags)
		case strings.Contains(last, "PGP words"):
			wordAsks++
			if wordAsks == 1 {
				return strings.Join(append([]string{"aardvark"}, words[1:]...), " ") // the first word misheard
			}
			return e.words
		}
		t.Fatalf("an unexpected prompt %q; output:\n%s", last, lastLines(text, 15))
		return ""
	})
	if err != nil {
		t.Fatalf("the ceremony at the terminal: %v\n%s", err, lastLines(screen, 30))
	}
	for _, want := range []string{"that is not an answer", "Noted in the record", "Give the signature file again",
		"Wrong passphrase for co1's credential (attempt 1 of 3)", "(duplicate)", "word 29 of 32 differs", "Write this head on the paper script",
		"\r  1/9 bundles signed", "\r  9/9 bundles signed\r\n"} { // progress rewritten in place on a terminal
		if !strings.Contains(screen, want) {
			t.Errorf("the screen lacks %q", want)
		}
	}
	if strings.Count(screen, "Head: ") != 1 {
		t.Errorf("%d heads printed, want one to write down", strings.Count(screen, "Head: "))
	}
	if got := readFileT(t, e.path("out", "skr-pty.xml")); got != ref {
		t.Error("the SKR signed at the terminal differs from the answers file run's")
	}
	log := readFileT(t, e.path("ceremony-pty.log"))
	for _, want := range []string{"an empty line", "camera 2 restarted", "no-such.sig", "wrong passphrase for co1's credential", "duplicate", "word 29 of 32 differs"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log has no note of %s", want)
		}
	}
	e.noSecrets(t, screen, log)
	if strings.Contains(screen+log, "not-the-passphrase") {
		t.Error("the wrong passphrase was shown or recorded")
	}
	if code, rep := logVerify(t, e.path("ceremony-pty.log"), "--attestation-key", e.path("media", "ksk-attestation.pem")); code != 0 || rep["status"] != "VALID" {
		t.Errorf("the log: exit %d %v", code, rep["findings"])
	}
}

// ptyCeremony runs the quarterly signing of e (log ceremony-TAG.log) with
// bin at a pseudo-terminal, without an answers file, answering each
// prompt with what respond returns for its last line, the output since the
// previous prompt and the whole screen. It returns the screen and how the
// process ended.
func ptyCeremony(t *testing.T, e *ceremonyEnv, bin, tag string, respond func(last, text, all string) string) (string, error) {
	t.Helper()
	args := e.quarterlyArgs(tag, "")
	var cargs []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--answers" {
			i++ // a person at the terminal instead
			continue
		}
		cargs = append(cargs, args[i])
	}
	script, err := filepath.Abs(quarterlyScript)
	if err != nil {
		t.Fatal(err)
	}
	cargs[2] = script
	cmd := exec.Command(bin, cargs...)
	cmd.Env = os.Environ()
	s := startPTY(t, cmd)
	for {
		text, ok := s.prompt()
		if !ok {
			break
		}
		s.mu.Lock()
		all := s.buf.String()
		s.mu.Unlock()
		s.send(respond(text[strings.LastIndex(text, "\n")+1:], text, all))
	}
	err = cmd.Wait()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String(), err
}

// witnessSignature signs, with ssh-keygen and the witness's key, the head
// the last witness instructions on the screen ask for, and returns the
// signature file.
func witnessSignature(t *testing.T, e *ceremonyEnv, sshKeygen string, headRe, whoRe *regexp.Regexp, screen string) string {
	t.Helper()
	m, w := headRe.FindAllStringSubmatch(screen, -1), whoRe.FindAllStringSubmatch(screen, -1)
	if len(m) == 0 || len(w) == 0 {
		t.Fatalf("no witness instructions on the screen:\n%s", lastLines(screen, 10))
	}
	head, who := m[len(m)-1][1], w[len(w)-1][1]
	msg := filepath.Join(t.TempDir(), "head")
	writeFileAt(t, msg, head+"\n", 0o600)
	c := exec.Command(sshKeygen, "-Y", "sign", "-n", attest.WitnessNamespace, "-f", e.path("witnesses", who), msg)
	if o, err := c.CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, o)
	}
	return msg + ".sig"
}

// coPassphrase is crypto officer coN's passphrase.
func coPassphrase(e *ceremonyEnv, co string) string {
	var i int
	fmt.Sscanf(co, "co%d", &i)
	return e.secrets[i-1]
}

// TestCeremonyPTYLimits: at the terminal, an explicit no ends the step as
// an exception (exit 1, recorded); a holder who types a wrong passphrase
// three times is not counted, and when the holders present say they are
// done without the quorum the step fails (exit 1), each attempt noted.
func TestCeremonyPTYLimits(t *testing.T) {
	sshKeygen := testenv.RequireTool(t, "ssh-keygen", "openssh-client")
	e := stageCeremony(t)
	bin := buildFaultKSK(t)

	_, err := ptyCeremony(t, e, bin, "no", func(last, text, _ string) string {
		if strings.Contains(last, "type yes to confirm") {
			return "no"
		}
		t.Fatalf("unexpected prompt %q", last)
		return ""
	})
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitRejected {
		t.Fatalf("no at the first confirmation: %v, want exit %d", err, exitRejected)
	}
	if log := readFileT(t, e.path("ceremony-no.log")); !strings.Contains(log, `"status":"failed"`) || !strings.Contains(log, `answered \"no\"`) {
		t.Errorf("the exception is not recorded:\n%s", lastLines(log, 2))
	}

	headRe := regexp.MustCompile(`echo ([0-9a-f]{64}) \| ssh-keygen`)
	whoRe := regexp.MustCompile(`\] (\w+): sign the head`)
	given := false
	screen, err := ptyCeremony(t, e, bin, "limit", func(last, text, all string) string {
		switch {
		case strings.Contains(last, "type yes to confirm"):
			return "yes"
		case strings.Contains(last, "bag number:"):
			return "BB1"
		case strings.Contains(last, "Signature file:"):
			return witnessSignature(t, e, sshKeygen, headRe, whoRe, all)
		case strings.Contains(last, "Credential file (empty line"):
			if given {
				return ""
			}
			given = true
			return e.path("credentials", "kmf-east-co.co2.age")
		case strings.Contains(last, "Passphrase for"):
			return "still-not-it"
		case strings.Contains(last, "Are the holders present done?"):
			return "done"
		}
		t.Fatalf("unexpected prompt %q\n%s", last, lastLines(text, 10))
		return ""
	})
	if !errors.As(err, &ee) || ee.ExitCode() != exitRejected {
		t.Fatalf("quorum not met: %v, want exit %d\n%s", err, exitRejected, lastLines(screen, 20))
	}
	for _, want := range []string{"attempt 2 of 3", "NOT counted: wrong passphrase 3 times", "0 of 3 needed valid credentials are in", "quorum not met"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the screen lacks %q\n%s", want, lastLines(screen, 20))
		}
	}
	log := readFileT(t, e.path("ceremony-limit.log"))
	if strings.Count(log, "wrong passphrase for co2's credential") != 2 || strings.Contains(log, "still-not-it") {
		t.Errorf("the log does not note each wrong attempt (and only that):\n%s", lastLines(log, 3))
	}
	if strings.Contains(log, `"step":"act3.activate"`) {
		t.Error("the HSM was activated without the quorum")
	}
}
