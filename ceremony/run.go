package ceremony

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/ksr"
	"golang.org/x/term"
)

// Step statuses recorded in the log's details.
const (
	StatusStarted = "started"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// Log step names of the entries the Runner writes besides the steps'.
const (
	LogStepOpen   = "ceremony.open"
	LogStepResume = "ceremony.resume"
)

// RunOptions are the inputs of Run besides the plan.
type RunOptions struct {
	// Log is the attestation log: created when it does not exist, resumed
	// when it does.
	Log string
	// Operator answers the questions; Answers only in rehearsals.
	Operator Operator
	// Out receives the narration for the people in the room.
	Out io.Writer
	// Counter counts failed HSM logins; nil means hsm.DefaultFailureCounter.
	Counter *hsm.FailureCounter
	// Clock stamps log entries and is the default reference time of the
	// KSR checks; nil means time.Now.
	Clock func() time.Time
	// Workers is how many bundles a sign step signs at once; 0 means the
	// signer's default.
	Workers int
	// Version is ksk's version, recorded in the log.
	Version string
	// WorkFactor is the scrypt work factor of credentials issued; 0
	// means quorum.DefaultWorkFactor. Lower only in tests.
	WorkFactor int
}

// Result is what Run did.
type Result struct {
	// Log is the log's path; Head its head after the run, Entries the
	// number of entries.
	Log     string
	Head    attest.Hash
	Entries int64
	// Resumed reports that an existing log was continued; Skipped counts
	// the steps it had already recorded as done.
	Resumed bool
	Skipped int
	// Complete reports that the ceremony's last step is done.
	Complete bool
	// Outputs are the files the ceremony wrote, resolved.
	Outputs []string
}

// Runner executes a Plan. It is not safe for concurrent use.
type Runner struct {
	ctx  context.Context
	plan *Plan
	opts RunOptions
	log  *attest.Writer
	out  io.Writer

	// The ceremony's memory: secrets rebuilt by quorums (wiped once used),
	// tokens logged in, the KSR loaded.
	secrets map[string][]byte
	// activePINs: the PIN an hsm-activate logged an HSM in with, kept
	// (by HSM id) only when a later re-issue on it must change it.
	activePINs map[string][]byte
	// repeatDecided: HSM steps left unfinished that the operator decided
	// to repeat when the ceremony resumed.
	repeatDecided map[string]bool
	modules       map[string]*hsm.Module
	tokens        map[string]*hsm.Token
	ksr           *loadedKSR
	// custody: what custody steps found, by roster id and holder.
	custody map[string]custodyState
	// issuedHere: SHA-256 of the credentials issued by this ceremony,
	// which have not left the room (no custody step needed for them).
	issuedHere map[string]bool

	// From the log when resuming.
	done      map[string]*attest.Entry
	started   map[string]*attest.Entry
	rerun     map[string]bool
	witnessed map[string]map[string]bool // step -> witnesses who signed
}

// loadedKSR is the KSR of a ksr-load step.
type loadedKSR struct {
	path    string
	sha256  [32]byte
	doc     *ksr.Document
	prev    *ksr.Document
	at      time.Time
	hashRun bool // a ksr-hash step matched the words
}

// stepRun is one step being run.
type stepRun struct {
	ps      *PlannedStep
	st      *Step
	info    StepInfo
	details map[string]string
	files   []attest.FileRef
	// rerun marks a session step run again on resume.
	rerun bool
}

// Run runs the plan: from the first step when opts.Log does not exist,
// else from where the log stops. It returns when every step is done or at
// the first step that fails; either way the log verifies up to its last
// entry.
func Run(ctx context.Context, p *Plan, opts RunOptions) (res *Result, err error) {
	if opts.Operator == nil {
		return nil, fmt.Errorf("%w: no operator", ErrAnswers)
	}
	if _, ok := opts.Operator.(*Answers); ok && p.Script.Ceremony.Mode != ModeRehearsal {
		return nil, fmt.Errorf("%w: ceremony.mode is %s: an answers file may stand in for the people only in a rehearsal", ErrAnswers, p.Script.Ceremony.Mode)
	}
	if a, ok := opts.Operator.(*Answers); ok {
		if err := a.CheckSteps(p); err != nil {
			return nil, err
		}
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	r := &Runner{ctx: ctx, plan: p, opts: opts, out: opts.Out, secrets: map[string][]byte{}, activePINs: map[string][]byte{}, repeatDecided: map[string]bool{}, custody: map[string]custodyState{}, issuedHere: map[string]bool{}, modules: map[string]*hsm.Module{}, tokens: map[string]*hsm.Token{},
		done: map[string]*attest.Entry{}, started: map[string]*attest.Entry{}, rerun: map[string]bool{}, witnessed: map[string]map[string]bool{}}
	defer r.closeAll()
	res = &Result{Log: opts.Log}
	if err := r.openLog(res); err != nil {
		if r.log != nil {
			_ = r.log.Close() // release the lock of a log that cannot be resumed
		}
		return nil, err
	}
	defer func() {
		res.Head, res.Entries = r.log.Head(), r.log.Seq()+1
		if cerr := r.log.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("%w: %w", ErrEnvironment, cerr)
		}
	}()
	if r.allDone() {
		r.printf("The log records every step of this ceremony as done; nothing to do.\n")
		res.Complete = true
		return res, nil
	}
	if res.Resumed {
		if err := r.preflight(); err != nil {
			return res, err
		}
		if err := r.planResume(); err != nil {
			return res, err
		}
	}

	lastAct := ""
	for _, ps := range p.Steps {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if ps.Act.ID != lastAct {
			lastAct = ps.Act.ID
			r.printf("\n== Act %s: %s ==\n", strings.Split(ps.Number, ".")[0], ps.Act.Title)
		}
		if r.done[ps.ID] != nil && !r.rerun[ps.ID] {
			res.Skipped++
			r.printf("\nStep %s %s: done at %s (log seq %d); not repeated.\n", ps.Number, ps.ID, r.done[ps.ID].Time.Format(time.RFC3339), r.done[ps.ID].Seq)
			if ps.kind.restore != nil {
				x := r.newStepRun(ps)
				if err := ps.kind.restore(r, x); err != nil {
					return res, fmt.Errorf("%w: step %s: %w", ErrResume, ps.ID, err)
				}
			}
			continue
		}
		if ps.Step.Skipped() {
			fault(ps.ID, "before")
			r.printf("\nStep %s %s (%s): skipped (when is false for this run).\n", ps.Number, ps.ID, ps.Step.Type)
			if _, err := r.appendLog(attest.Entry{Step: ps.ID, Actor: ps.Step.Actor, Details: map[string]string{
				"status": StatusDone, "type": ps.Step.Type, "skipped": "when is false"}}); err != nil {
				return res, fmt.Errorf("%w: log: %w", ErrEnvironment, err)
			}
			fault(ps.ID, "done")
			continue
		}
		if err := r.runStep(ctx, ps, res); err != nil {
			return res, err
		}
	}
	res.Complete = true
	for _, ps := range p.Steps {
		res.Outputs = append(res.Outputs, ps.Outputs...)
	}
	return res, nil
}

func (r *Runner) printf(format string, args ...any) { fmt.Fprintf(r.out, format, args...) }

func (r *Runner) newStepRun(ps *PlannedStep) *stepRun {
	role := ""
	if p := r.plan.people[ps.Step.Actor]; p != nil {
		role = p.Role
	}
	return &stepRun{ps: ps, st: ps.Step, details: map[string]string{},
		info: StepInfo{ID: ps.ID, Number: ps.Number, Type: ps.Step.Type, Actor: ps.Step.Actor, Role: role}}
}

// runStep runs one step and records it.
func (r *Runner) runStep(ctx context.Context, ps *PlannedStep, res *Result) error {
	x := r.newStepRun(ps)
	x.rerun = r.rerun[ps.ID]
	st := ps.Step
	actor := r.plan.people[st.Actor]
	r.printf("\nStep %s %s (%s)", ps.Number, ps.ID, st.Type)
	if st.Title != "" {
		r.printf(": %s", st.Title)
	}
	r.printf("\n  Who: %s (%s)\n", displayName(actor), actor.Role)
	if st.Text != "" {
		r.printf("  Do: %s\n", indent(strings.TrimSpace(st.Text), "      "))
	}
	if st.Expect != "" {
		r.printf("  Expected: %s\n", indent(strings.TrimSpace(st.Expect), "      "))
	}
	if x.rerun {
		r.printf("  (run again: the ceremony was resumed and later steps need it)\n")
	}
	fault(ps.ID, "before")

	if prev := r.unfinished(ps); prev != nil {
		if !r.repeatDecided[ps.ID] {
			if err := r.decideRepeat(ps, prev); err != nil {
				return err
			}
		}
		r.printf("  Repeating step %s on the operator's explicit decision.\n", ps.ID)
		x.details["repeat_of_seq"] = strconv.FormatInt(prev.Seq, 10)
	}

	// Output directories first: a step never fails for want of one after
	// it has touched the HSM.
	for _, o := range ps.Outputs {
		if err := os.MkdirAll(filepath.Dir(o), 0o755); err != nil {
			return r.fail(x, fmt.Errorf("%w: %w", ErrEnvironment, err))
		}
	}
	if ps.TouchesHSM {
		if err := r.opts.Operator.Confirm(x.info, "  Proceed with this step?"); err != nil {
			return r.fail(x, err)
		}
	}
	if ps.TouchesHSM && !ps.kind.selfRecording {
		d := map[string]string{"status": StatusStarted, "type": st.Type}
		if v, ok := x.details["repeat_of_seq"]; ok {
			d["repeat_of_seq"] = v
		}
		if x.rerun {
			d["rerun"] = "resume"
		}
		if _, err := r.appendLog(attest.Entry{Step: ps.ID, Actor: st.Actor, Details: d}); err != nil {
			return fmt.Errorf("%w: log: %w", ErrEnvironment, err)
		}
		fault(ps.ID, "started")
	}
	if err := ps.kind.run(r, x); err != nil {
		return r.fail(x, err)
	}
	if !ps.TouchesHSM && !ps.kind.selfRecording {
		if err := r.opts.Operator.Confirm(x.info, "  Result as expected?"); err != nil {
			return r.fail(x, err)
		}
	}
	if ps.kind.selfRecording {
		fault(ps.ID, "done")
		return nil
	}
	x.details["status"] = StatusDone
	x.details["type"] = st.Type
	if st.Title != "" {
		x.details["title"] = st.Title
	}
	if st.Ref != "" {
		x.details["ref"] = st.Ref
	}
	if x.rerun {
		x.details["rerun"] = "resume"
	}
	r.collectNotes(x)
	if _, err := r.appendLog(attest.Entry{Step: ps.ID, Actor: st.Actor, Details: x.details, Files: x.files}); err != nil {
		return fmt.Errorf("%w: log: %w", ErrEnvironment, err)
	}
	fault(ps.ID, "done")
	return nil
}

// fail records a failed step in the log (its reason carries no secret:
// no error of ksk does) and returns err.
func (r *Runner) fail(x *stepRun, err error) error {
	r.collectNotes(x)
	d := map[string]string{"status": StatusFailed, "type": x.st.Type, "error": err.Error()}
	for k, v := range x.details {
		if _, ok := d[k]; !ok {
			d[k] = v
		}
	}
	if _, lerr := r.appendLog(attest.Entry{Step: x.ps.ID, Actor: x.st.Actor, Details: d, Files: x.files}); lerr != nil {
		return errors.Join(err, fmt.Errorf("%w: log: %w", ErrEnvironment, lerr))
	}
	r.printf("  FAILED: %v\n", err)
	return fmt.Errorf("step %s: %w", x.ps.ID, err)
}

// openLog creates the log or opens it to resume.
func (r *Runner) openLog(res *Result) error {
	p := r.plan
	if _, err := os.Lstat(r.opts.Log); errors.Is(err, os.ErrNotExist) {
		if err := r.preflight(); err != nil {
			return err
		}
		ca := ""
		for _, pp := range p.Script.Participants {
			if pp.Role == RoleCeremonyAdministrator {
				ca = pp.ID
				break
			}
		}
		ref, err := attest.HashFile(p.Path, attest.Read)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrRead, err)
		}
		ref.Path = filepath.Base(p.Path)
		m := p.Script.Ceremony
		details := map[string]string{"ceremony": m.Name, "number": strconv.Itoa(m.Number), "site": m.Site, "date": m.Date, "mode": m.Mode,
			"script_sha256": p.SHA256, "operator": r.opts.Operator.Describe(), "steps": strconv.Itoa(len(p.Steps))}
		if r.opts.Version != "" {
			details["ksk_version"] = r.opts.Version
		}
		details[attest.OpenAttestation] = p.Attestation()
		for k, v := range p.Script.Params {
			details["param."+k] = v
		}
		w, err := attest.Create(r.opts.Log, attest.Entry{Step: LogStepOpen, Actor: ca, Details: details, Files: append([]attest.FileRef{ref}, r.operatorFiles()...)}, attest.WithClock(r.opts.Clock))
		if err != nil {
			return fmt.Errorf("%w: log: %w", ErrEnvironment, err)
		}
		r.log = w
		r.printf("Ceremony %q (%s), script %s\nSHA-256: %s\nLog: %s (new)\n", m.Name, m.Mode, p.Path, p.SHA256, r.opts.Log)
		return nil
	}
	var open *attest.Entry
	collect := func(reused *attest.Entry, _ attest.Hash, _ int) error {
		// Verify reuses its Entry: keep a copy.
		e := &attest.Entry{Seq: reused.Seq, Time: reused.Time, Type: reused.Type, Step: reused.Step, Actor: reused.Actor,
			Details: maps.Clone(reused.Details), Files: slices.Clone(reused.Files)}
		if e.Seq == 0 {
			open = e
			return nil
		}
		switch {
		case e.Type == attest.TypeSeal:
			r.done[e.Step] = e
		case e.Type == attest.TypeWitness:
			if r.witnessed[e.Step] == nil {
				r.witnessed[e.Step] = map[string]bool{}
			}
			r.witnessed[e.Step][e.Actor] = true
			r.started[e.Step] = e
		case e.Details["status"] == StatusStarted:
			r.started[e.Step] = e
		case e.Details["status"] == StatusDone:
			r.done[e.Step] = e
		}
		return nil
	}
	w, err := attest.Open(r.opts.Log, attest.WithClock(r.opts.Clock), attest.WithVerifyOptions(attest.VerifyOptions{OnEntry: collect}))
	if err != nil {
		return fmt.Errorf("%w: log %s: %w", ErrResume, r.opts.Log, err)
	}
	r.log = w
	if open == nil || open.Step != LogStepOpen || open.Details["script_sha256"] != p.SHA256 {
		got := ""
		if open != nil {
			got = open.Details["script_sha256"]
		}
		return fmt.Errorf("%w: log %s was opened by a script with SHA-256 %q, not by %s (%s)", ErrResume, r.opts.Log, got, p.Path, p.SHA256)
	}
	for k, v := range p.Script.Params {
		if got, ok := open.Details["param."+k]; !ok || got != v {
			return fmt.Errorf("%w: log %s was opened with parameter %s=%q, not %q: resume with the same --param values", ErrResume, r.opts.Log, k, got, v)
		}
	}
	res.Resumed = true
	for _, ps := range p.Steps {
		if ps.Step.Type == TypeWitness && r.done[ps.ID] == nil && len(r.witnessed[ps.ID]) == len(ps.Step.Witnesses) {
			r.done[ps.ID] = r.started[ps.ID]
		}
	}
	r.printf("Ceremony %q (%s), script %s\nSHA-256: %s\nLog: %s (resuming after seq %d, %d steps done)\n",
		p.Script.Ceremony.Name, p.Script.Ceremony.Mode, p.Path, p.SHA256, r.opts.Log, w.Seq(), len(r.done))
	return nil
}

// planResume checks the files of the steps already done and decides which
// session steps must run again.
func (r *Runner) planResume() error {
	p := r.plan
	for _, ps := range p.Steps {
		e := r.done[ps.ID]
		if e == nil {
			continue
		}
		for _, f := range e.Files {
			path := p.File(f.Path)
			got, err := attest.HashFile(path, f.Role)
			if err != nil {
				return fmt.Errorf("%w: step %s recorded %s %s, which cannot be read now: %w", ErrResume, ps.ID, f.Role, f.Path, err)
			}
			if got.SHA256 != f.SHA256 {
				return fmt.Errorf("%w: step %s recorded %s %s with SHA-256 %s; it is now %s: the file changed since", ErrResume, ps.ID, f.Role, f.Path, f.SHA256, got.SHA256)
			}
		}
	}
	// An HSM step left unfinished is decided on now, before any step
	// runs: a refusal must not come after the crypto officers presented
	// their credentials again for nothing.
	for _, ps := range p.Steps {
		if prev := r.unfinished(ps); prev != nil {
			if err := r.decideRepeat(ps, prev); err != nil {
				return err
			}
		}
	}
	notDone := func(i int) bool { return r.done[p.Steps[i].ID] == nil }
	for i, ps := range p.Steps {
		if notDone(i) {
			continue
		}
		switch ps.Step.Type {
		case TypeHSMActivate:
			h := ps.Step.HSM
			for j := i + 1; j < len(p.Steps); j++ {
				sj := p.Steps[j].Step
				if (sj.Type == TypeHSMActivate || sj.Type == TypeTokenInit) && sj.HSM == h {
					break
				}
				if notDone(j) && sj.HSM == h {
					r.rerun[ps.ID] = true
					break
				}
			}
		case TypeTokenInit:
			for j := i + 1; j < len(p.Steps); j++ {
				sj := p.Steps[j].Step
				if sj.Type == TypeCredentialsIssue && sj.Quorum == ps.Step.Quorum && notDone(j) {
					return fmt.Errorf("%w: step %s initialised token %s with a new PIN that existed only in memory, and step %s did not issue the credentials for it: the token must be initialised again, in a new ceremony",
						ErrResume, ps.ID, ps.Step.HSM, p.Steps[j].ID)
				}
			}
		}
	}
	// A quorum runs again when an activation that needs it runs again.
	for i, ps := range p.Steps {
		if ps.Step.Type != TypeQuorum || notDone(i) {
			continue
		}
		for j := i + 1; j < len(p.Steps); j++ {
			sj := p.Steps[j]
			if sj.Step.Type == TypeQuorum && sj.Step.Quorum == ps.Step.Quorum {
				break
			}
			if sj.Step.Quorum == ps.Step.Quorum && (r.rerun[sj.ID] || notDone(j)) {
				r.rerun[ps.ID] = true
				break
			}
		}
	}
	r.removeStaleTemps()
	if _, err := r.appendLog(attest.Entry{Step: LogStepResume, Actor: "ksk", Details: map[string]string{
		"steps_done": strconv.Itoa(len(r.done)), "operator": r.opts.Operator.Describe(), "rerun": strings.Join(sortedKeys(r.rerun), " ")},
		Files: r.operatorFiles()}); err != nil {
		return fmt.Errorf("%w: log: %w", ErrEnvironment, err)
	}
	return nil
}

// removeStaleTemps removes the temporary files (atomicfile's
// ".NAME.tmp-*") that an interrupted run left beside the outputs of the
// steps still to run: never renamed, they are no output, and would
// otherwise stay on the medium.
func (r *Runner) removeStaleTemps() {
	for _, ps := range r.plan.Steps {
		if r.done[ps.ID] != nil && !r.rerun[ps.ID] {
			continue
		}
		for _, o := range ps.Outputs {
			stale, _ := filepath.Glob(filepath.Join(filepath.Dir(o), "."+filepath.Base(o)+".tmp-*"))
			for _, f := range stale {
				if err := os.Remove(f); err == nil {
					r.printf("Removed %s, left by the interrupted run.\n", f)
				}
			}
		}
	}
}

// progress returns a progress callback for a step's long work: on a
// terminal a line rewritten in place ("  3/7 credentials issued"), on
// anything else (a file, a pipe, -o json's stderr) only the final count.
func (r *Runner) progress(what string) func(done, total int) {
	f, ok := r.out.(interface{ Fd() uintptr })
	tty := ok && f.Fd() != ^uintptr(0) && term.IsTerminal(int(f.Fd()))
	return func(done, total int) {
		switch {
		case tty && done < total:
			r.printf("\r  %d/%d %s", done, total, what)
		case tty:
			r.printf("\r  %d/%d %s\n", done, total, what)
		case done == total:
			r.printf("  %d/%d %s\n", done, total, what)
		}
	}
}

// noteTaker is an Operator that keeps notes of a step: slips (an answer
// that was not one, a file that could not be read, a wrong passphrase,
// never the passphrase) and remarks participants typed.
type noteTaker interface{ takeNotes() []string }

// retrier is an Operator with a person behind it, who can answer again: a
// mismatch is asked again instead of ending the step.
type retrier interface{ interactive() bool }

// canRetry reports whether the operator can answer again.
func (r *Runner) canRetry() bool {
	rt, ok := r.opts.Operator.(retrier)
	return ok && rt.interactive()
}

// collectNotes moves the operator's notes into the step's details, as
// note.1, note.2, ...
func (r *Runner) collectNotes(x *stepRun) {
	n, ok := r.opts.Operator.(noteTaker)
	if !ok {
		return
	}
	for _, s := range n.takeNotes() {
		r.notef(x, "%s", s)
	}
}

// operatorFiles are the files the operator answers from (an answers
// file), logged when the ceremony opens or resumes.
func (r *Runner) operatorFiles() []attest.FileRef {
	a, ok := r.opts.Operator.(*Answers)
	if !ok {
		return nil
	}
	ref := a.operatorFile()
	ref.Path = r.logPath(ref.Path)
	return []attest.FileRef{ref}
}

// unfinished returns the log entry that recorded an HSM step as started
// when no entry records it as done, or nil.
func (r *Runner) unfinished(ps *PlannedStep) *attest.Entry {
	if prev := r.started[ps.ID]; prev != nil && ps.TouchesHSM && !ps.kind.selfRecording && r.done[ps.ID] == nil {
		return prev
	}
	return nil
}

// decideRepeat asks the operator whether to repeat an HSM step left
// unfinished, and fails with ErrResume unless they explicitly say so.
func (r *Runner) decideRepeat(ps *PlannedStep, prev *attest.Entry) error {
	why := fmt.Sprintf("Step %s touches the HSM and was started at %s (log seq %d) but never recorded as done: it may have changed the HSM or written its outputs.",
		ps.ID, prev.Time.Format(time.RFC3339), prev.Seq)
	ok, err := r.opts.Operator.Repeat(r.newStepRun(ps).info, why)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s Not repeated without an explicit decision (answers: steps.%s.repeat: true; at a terminal: type the step's name)", ErrResume, why, ps.ID)
	}
	r.repeatDecided[ps.ID] = true
	return nil
}

// allDone reports whether the log records every step as done.
func (r *Runner) allDone() bool {
	for _, ps := range r.plan.Steps {
		if r.done[ps.ID] == nil {
			return false
		}
	}
	return true
}

// closeAll wipes the secrets and closes the tokens.
func (r *Runner) closeAll() {
	for k, s := range r.secrets {
		clear(s)
		delete(r.secrets, k)
	}
	for k, s := range r.activePINs {
		clear(s)
		delete(r.activePINs, k)
	}
	for _, t := range r.tokens {
		_ = t.Close()
	}
	for _, m := range r.modules {
		_ = m.Close()
	}
}

// fileRef hashes a file for the log, naming it relative to the plan's
// directory.
func (r *Runner) fileRef(path string, role attest.Role) (attest.FileRef, error) {
	ref, err := attest.HashFile(path, role)
	if err != nil {
		return ref, fmt.Errorf("%w: %w", ErrRead, err)
	}
	ref.Path = r.logPath(path)
	return ref, nil
}

// logPath is how the log names a file: inside --dir relative to it, so
// that the log does not depend on where the ceremony directory is
// mounted; elsewhere (a log given by a path outside --dir, and the files
// beside it) absolute.
func (r *Runner) logPath(path string) string {
	absPath, err1 := filepath.Abs(path)
	absDir, err2 := filepath.Abs(r.plan.Dir)
	if err1 != nil || err2 != nil {
		return path
	}
	if r.plan.inside(absPath) {
		if rel, err := filepath.Rel(absDir, absPath); err == nil {
			return rel
		}
	}
	return absPath
}

func (x *stepRun) addFile(r *Runner, path string, role attest.Role) error {
	ref, err := r.fileRef(path, role)
	if err != nil {
		return err
	}
	x.files = append(x.files, ref)
	return nil
}

func displayName(p *Participant) string {
	if p == nil {
		return "?"
	}
	if p.Name != "" {
		return fmt.Sprintf("%s [%s]", p.Name, p.ID)
	}
	return p.ID
}

func indent(s, pad string) string { return strings.ReplaceAll(s, "\n", "\n"+pad) }

// appendLog appends a step entry to the log, with every details value made
// safe to log: a tab (as in a DNSKEY record's presentation form) becomes a
// space and any other control character its escape (attest.Sanitize), so
// that what ksk itself records, error messages included, never trips the
// log's refusal of control characters, and a transcript shows it as is.
func (r *Runner) appendLog(e attest.Entry) (attest.Hash, error) {
	for k, v := range e.Details {
		e.Details[k] = attest.Sanitize(strings.ReplaceAll(v, "\t", " "))
	}
	return r.log.Append(e)
}
