package ceremony

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ksk-dev/ksk/attest"
	"github.com/ksk-dev/ksk/quorum"
)

// The methods by which a custody step's credentials reach the room.
const (
	// CustodyDrilled: the holders' safe deposit boxes were drilled open
	// under witnesses (the holders could not attend).
	CustodyDrilled = "drilled"
	// CustodyCourier: the holders sent their credentials (or box keys) in
	// tamper-evident packaging by courier, with attestations.
	CustodyCourier = "courier"
	// CustodyHolder: the holders brought the sealed bags themselves.
	CustodyHolder = "holder"
)

// custodyMethods lists the methods a custody step may name.
var custodyMethods = []string{CustodyDrilled, CustodyCourier, CustodyHolder}

// BagValueID is the id under which a record step stores the number of the
// tamper-evident bag a holder's possession credential was sealed in (for
// holder co3: bag-co3). A custody step compares the bag found with it.
func BagValueID(holder string) string { return "bag-" + holder }

// custodyState is what a custody step found for one holder's credential.
type custodyState struct {
	intact bool
	why    string // the record: matches seq N, or why it is broken
}

// custodyKey names a holder of a roster in Runner.custody.
func custodyKey(rosterID, holder string) string { return rosterID + "/" + holder }

// validateCustody checks a custody step against the script: its method,
// its observers, and its holders against the quorum's (checked against
// the roster itself when the plan is built).
func (v *validator) validateCustody(st *Step, path string, people map[string]*Participant) {
	if st.Method != "" && !slices.Contains(custodyMethods, st.Method) {
		v.fail(path+".method", "want one of %s, got %q", strings.Join(custodyMethods, ", "), st.Method)
	}
	seen := map[string]bool{}
	for i, o := range st.Observers {
		switch {
		case people[o] == nil:
			v.fail(fmt.Sprintf("%s.observers[%d]", path, i), "%q is not a participant", o)
		case seen[o]:
			v.fail(fmt.Sprintf("%s.observers[%d]", path, i), "%q is listed twice", o)
		}
		seen[o] = true
	}
	held := map[string]bool{}
	for i, h := range st.Holders {
		if held[h] {
			v.fail(fmt.Sprintf("%s.holders[%d]", path, i), "%q is listed twice", h)
		}
		held[h] = true
	}
}

// custodyHolders returns the holders a custody step accounts for: those it
// names, each of which must be a possession holder of the roster, or by
// default every possession holder.
func custodyHolders(st *Step, roster quorum.Roster) ([]string, error) {
	var all []string
	for _, h := range roster.Holders {
		if h.Protection.IsPossession() {
			all = append(all, h.Name)
		}
	}
	if len(st.Holders) == 0 {
		if len(all) == 0 {
			return nil, fmt.Errorf("roster %s has no possession holders: a custody step accounts for credentials sealed in bags", roster.ID)
		}
		return all, nil
	}
	for _, h := range st.Holders {
		if !slices.Contains(all, h) {
			return nil, fmt.Errorf("holder %q is not a possession holder of roster %s (possession holders: %s)", h, roster.ID, strings.Join(all, ", "))
		}
	}
	return st.Holders, nil
}

// runCustody: for each possession credential brought to the room (boxes
// drilled, a courier's package, the holder's own bag) the actor reads out
// the number of the tamper-evident bag it is in, which is compared with
// the number recorded when the bag was sealed (value bag-HOLDER of a
// record step in compare_log, the ceremony that issued it). A match makes
// the credential usable at this ceremony's quorum steps; a missing record
// or a different number is an exception the witnesses acknowledge, and
// that credential is refused. The quorum rule itself is unchanged.
func runCustody(r *Runner, x *stepRun) error {
	st := x.st
	pq := r.plan.quorums[st.Quorum]
	holders, err := custodyHolders(st, pq.roster)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStepFailed, err)
	}
	path := r.plan.File(st.CompareLog)
	prev, err := previousValues(path)
	if err != nil {
		return fmt.Errorf("%w: compare_log %s: %w", ErrStepFailed, st.CompareLog, err)
	}
	if err := x.addFile(r, path, attest.Read); err != nil {
		return err
	}
	x.details["quorum"] = pq.ID
	x.details["roster_id"] = pq.roster.ID
	x.details["method"] = st.Method
	x.details["observers"] = strings.Join(st.Observers, ", ")
	r.printf("  Custody (%s) of %d possession credentials of roster %s, observed by %s.\n", st.Method, len(holders), pq.roster.ID, strings.Join(st.Observers, ", "))
	broken := 0
	for _, h := range holders {
		id := BagValueID(h)
		got, err := r.opts.Operator.Value(x.info, id, fmt.Sprintf("bag number of %s's credential", h))
		if err != nil {
			return err
		}
		got = strings.TrimSpace(got)
		if err := attest.CheckText(id, got); err != nil {
			return fmt.Errorf("%w: %w", ErrStepFailed, err)
		}
		x.details["bag."+h] = got
		p, ok := prev[id]
		var state custodyState
		switch {
		case got == "":
			state.why = fmt.Sprintf("no bag number read out for %s's credential", h)
		case !ok:
			state.why = fmt.Sprintf("%s's credential arrived in bag %q, but %s records no bag for it (%s)", h, got, st.CompareLog, id)
		case p.value != got:
			state.why = fmt.Sprintf("%s's credential arrived in bag %q, but it was sealed in bag %q (%s, seq %d, %s)", h, got, p.value, st.CompareLog, p.seq, p.step)
		default:
			state = custodyState{intact: true, why: fmt.Sprintf("intact: bag %s matches seq %d (%s) of %s", got, p.seq, p.step, st.CompareLog)}
		}
		if state.intact {
			r.printf("  %s: bag %s, as sealed (seq %d, %s): usable.\n", h, got, p.seq, p.step)
			x.details["custody."+h] = state.why
		} else {
			broken++
			r.printf("  EXCEPTION: %s. That credential will not be used.\n", state.why)
			if err := r.opts.Operator.Confirm(x.info, "  The witnesses acknowledge this exception?"); err != nil {
				return fmt.Errorf("%w: custody of %s's credential: %s; not acknowledged: %w", ErrStepFailed, h, state.why, err)
			}
			x.details["custody."+h] = "broken: " + state.why + "; acknowledged, the credential is refused"
		}
		r.custody[custodyKey(pq.roster.ID, h)] = state
	}
	r.printf("  %d of %d credentials in custody as sealed; the quorum needs %d.\n", len(holders)-broken, len(holders), pq.roster.M)
	return nil
}

// restoreCustody rebuilds, when a ceremony resumes, what a done custody
// step found, from its log entry.
func restoreCustody(r *Runner, x *stepRun) error {
	pq := r.plan.quorums[x.st.Quorum]
	e := r.done[x.ps.ID]
	if e == nil {
		return nil
	}
	for k, v := range e.Details {
		if h, ok := strings.CutPrefix(k, "custody."); ok {
			r.custody[custodyKey(pq.roster.ID, h)] = custodyState{intact: strings.HasPrefix(v, "intact"), why: v}
		}
	}
	return nil
}

// checkCustody refuses an opened possession credential unless a custody
// step of this ceremony found it in its bag as sealed, or this ceremony
// issued it (it has not left the room).
func (r *Runner) checkCustody(o *quorum.Opened) {
	if o.Err != nil || !o.Protection.IsPossession() || r.issuedHere[o.Fingerprint] {
		return
	}
	st, ok := r.custody[custodyKey(o.RosterID, o.Holder)]
	switch {
	case !ok:
		o.Err = fmt.Errorf("%w: %s's credential is a possession credential and no custody step of this ceremony recorded its bag as sealed", quorum.ErrCustody, o.Holder)
	case !st.intact:
		o.Err = fmt.Errorf("%w: %s's credential: %s", quorum.ErrCustody, o.Holder, strings.TrimPrefix(st.why, "broken: "))
	}
}
