package ceremony

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ksk-dev/ksk/hsm"
	"github.com/ksk-dev/ksk/signer"
	"golang.org/x/sys/unix"
)

// PreflightItem is one line of the pre-flight: what was checked and how
// it came out.
type PreflightItem struct {
	// What names the thing checked: "HSM kmf-hsm", "key ksk-2026", "output out/skr.xml".
	What string `json:"what"`
	// OK is false when the ceremony cannot start because of it.
	OK bool `json:"ok"`
	// Detail says what was found, or what is wrong and how to fix it.
	Detail string `json:"detail"`
}

// preflight checks, before the log is opened or appended to, what only
// the machine can tell and what would otherwise stop the ceremony in the
// room after the crypto officers presented their credentials: every
// PKCS#11 module loads, every token the script activates is present,
// every key a step uses is on it (or made by an earlier step) and a key
// a keygen step makes is not, ksk's failed-login counter is not at its
// limit, and every output of a step still to run is free and writable.
// It prints a table and fails with ErrEnvironment (HSM, module, token,
// counter: exit 3) or ErrInvalid (an output: exit 2), having written
// nothing.
func (r *Runner) preflight() error {
	items, err := r.preflightItems()
	if err != nil {
		return err
	}
	r.printf("Pre-flight (nothing is written until it passes):\n")
	tw := tabwriter.NewWriter(r.out, 0, 0, 2, ' ', 0)
	var failed []PreflightItem
	for _, it := range items {
		mark := "ok"
		if !it.OK {
			mark = "FAIL"
			failed = append(failed, it)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", mark, it.What, it.Detail)
	}
	_ = tw.Flush()
	if len(failed) == 0 {
		return nil
	}
	msgs := make([]string, len(failed))
	sentinel := ErrInvalid
	for i, f := range failed {
		msgs[i] = f.What + ": " + f.Detail
		if !strings.HasPrefix(f.What, "output") {
			sentinel = ErrEnvironment
		}
	}
	return fmt.Errorf("%w: pre-flight: %s; nothing was written", sentinel, strings.Join(msgs, "; "))
}

// keyUse is a key a step needs on an HSM.
type keyUse struct {
	hsm, label string
	step       string // the steps, comma-separated
}

func (r *Runner) preflightItems() ([]PreflightItem, error) {
	p := r.plan
	var items []PreflightItem
	todo := func(ps *PlannedStep) bool { return r.done[ps.ID] == nil && !ps.Step.Skipped() }

	// Which HSMs are activated (their token must exist now) and which
	// are initialised here (their token must not); keys used and made.
	initialised := map[string]bool{}
	activated := map[string]bool{}
	made := map[string]map[string]bool{}
	var uses []keyUse
	var makes []keyUse
	need := func(ps *PlannedStep, label string) {
		h := ps.Step.HSM
		if label == "" || initialised[h] || made[h][label] {
			return
		}
		for i := range uses {
			if uses[i].hsm == h && uses[i].label == label {
				uses[i].step += ", " + ps.ID
				return
			}
		}
		uses = append(uses, keyUse{h, label, ps.ID})
	}
	for _, ps := range p.Steps {
		st := ps.Step
		h := st.HSM
		if made[h] == nil {
			made[h] = map[string]bool{}
		}
		switch st.Type {
		case TypeTokenInit:
			if !activated[h] && todo(ps) {
				initialised[h] = true
			}
		case TypeHSMActivate:
			activated[h] = true
		case TypeKeygen, TypeKeyRestore:
			if st.Label != "" {
				if st.Type == TypeKeygen && todo(ps) && r.started[ps.ID] == nil && !initialised[h] {
					makes = append(makes, keyUse{h, st.Label, ps.ID})
				}
				made[h][st.Label] = true
			}
		}
		if !todo(ps) {
			continue
		}
		switch st.Type {
		case TypeSeal, TypeRekorPublish:
			need(ps, st.Key)
		case TypeKeyDestroy, TypeKeyBackup, TypeSignerConfig:
			need(ps, st.Label)
		case TypeSign, TypeTrustAnchor:
			cfgPath := p.File(st.Config)
			if written := p.writtenBefore(ps, cfgPath); written {
				continue
			}
			cfg, err := signer.LoadConfig(cfgPath)
			if err != nil {
				continue // Check reported it
			}
			names := st.Keys
			if st.Type == TypeSign {
				if s, err := cfg.Schema(st.Schema); err == nil {
					names = s.KeyNames()
				}
			}
			if len(names) == 0 {
				for n := range cfg.Keys {
					names = append(names, n)
				}
				slices.Sort(names)
			}
			for _, n := range names {
				if k := cfg.Keys[n]; k != nil {
					need(ps, k.Label)
				}
			}
		}
	}

	c, err := r.counter()
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(p.hsms))
	for id := range p.hsms {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		h := p.hsms[id]
		if !activated[id] && !initialised[id] {
			continue
		}
		what := "HSM " + id
		m, err := r.module(h)
		if err != nil {
			items = append(items, PreflightItem{what, false, fmt.Sprintf("the PKCS#11 module does not load: %v", errors.Unwrap(err))})
			continue
		}
		sel := hsm.TokenSelector{Label: h.Token, Serial: h.TokenSerial}
		if initialised[id] {
			if _, err := m.OpenToken(sel); err == nil {
				items = append(items, PreflightItem{what, false, fmt.Sprintf("a token labelled %q is already initialised, and a token-init step of this ceremony would make it", h.Token)})
			} else {
				items = append(items, PreflightItem{what, true, fmt.Sprintf("module %s; no token %q yet (token-init makes it)", m.Path(), h.Token)})
			}
			continue
		}
		tok, err := m.OpenToken(sel)
		switch {
		case errors.Is(err, hsm.ErrTokenNotFound):
			items = append(items, PreflightItem{what, false, fmt.Sprintf("no %s in module %s: check --param token and that the HSM is connected", sel, m.Path())})
			continue
		case err != nil:
			items = append(items, PreflightItem{what, false, err.Error()})
			continue
		}
		info := tok.Info()
		st, err := c.State(info, hsm.User)
		detail := fmt.Sprintf("token %q serial %s (%s %s)", info.Label, info.Serial, info.Manufacturer, info.Model)
		switch {
		case err != nil:
			items = append(items, PreflightItem{what, false, fmt.Sprintf("%s: failed-login counter: %v", detail, err)})
		case st.Locked():
			items = append(items, PreflightItem{what, false, fmt.Sprintf("%s: ksk's failed-login counter is at its limit (%d of %d): a security officer runs ksk hsm unlock first", detail, st.Failures, st.Limit)})
		case st.Failures > 0 && st.Limit-st.Failures < 2:
			// One more wrong PIN (old credentials, say) would lock the
			// token in the middle of the ceremony.
			items = append(items, PreflightItem{what, false, fmt.Sprintf("%s: ksk's failed-login counter is near its limit (%d of %d): find out why, and have a security officer run ksk hsm unlock before the ceremony", detail, st.Failures, st.Limit)})
		default:
			items = append(items, PreflightItem{what, true, fmt.Sprintf("%s; failed logins %d of %d", detail, st.Failures, st.Limit)})
		}
		for _, u := range uses {
			if u.hsm != id {
				continue
			}
			ok, err := tok.HasPublicKey(u.label)
			switch {
			case err != nil:
				items = append(items, PreflightItem{"key " + u.label, false, err.Error()})
			case !ok:
				items = append(items, PreflightItem{"key " + u.label, false, fmt.Sprintf("%s need it on HSM %s, and no public key object has this label", u.step, id)})
			default:
				items = append(items, PreflightItem{"key " + u.label, true, fmt.Sprintf("on HSM %s, for %s", id, u.step)})
			}
		}
		for _, u := range makes {
			if u.hsm != id {
				continue
			}
			if ok, err := tok.HasPublicKey(u.label); err == nil && ok {
				items = append(items, PreflightItem{"key " + u.label, false, fmt.Sprintf("step %s generates it, and HSM %s already has a key with this label", u.step, id)})
			}
		}
		_ = tok.Close()
	}

	for _, ps := range p.Steps {
		if !todo(ps) || r.started[ps.ID] != nil || ps.Step.Type == TypeWriteOutputs {
			continue
		}
		for _, out := range ps.Outputs {
			if _, err := os.Lstat(out); err == nil {
				items = append(items, PreflightItem{"output " + r.logPath(out), false, fmt.Sprintf("step %s would write it, and it exists: move it away first", ps.ID)})
				continue
			}
			if dir, err := writableAncestor(out); err != nil {
				items = append(items, PreflightItem{"output " + r.logPath(out), false, fmt.Sprintf("step %s cannot write it: %s: %v", ps.ID, dir, err)})
			}
		}
	}
	outputs := 0
	for _, it := range items {
		if strings.HasPrefix(it.What, "output") {
			outputs++
		}
	}
	if outputs == 0 {
		items = append(items, PreflightItem{"outputs", true, "every output of the steps to run is free and its directory writable"})
	}
	return items, nil
}

// writtenBefore reports whether a step before ps writes path.
func (p *Plan) writtenBefore(ps *PlannedStep, path string) bool {
	for _, q := range p.Steps {
		if q == ps {
			return false
		}
		if slices.Contains(q.Outputs, path) {
			return true
		}
	}
	return false
}

// writableAncestor checks that the nearest existing directory above path
// is a directory this process may create files in.
func writableAncestor(path string) (string, error) {
	dir := filepath.Dir(path)
	for {
		st, err := os.Stat(dir)
		if err == nil {
			if !st.IsDir() {
				return dir, errors.New("not a directory")
			}
			if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
				return dir, err
			}
			return dir, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return dir, err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir, err
		}
		dir = parent
	}
}
