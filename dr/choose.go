// Package dr is the decision side of a KSK operator's disaster recovery
// procedure: from what happened and what is still available, which
// variant of the procedure applies and which ceremony script of
// scripts/dr/ carries it out (docs/disaster-recovery.md).
//
// The variants are those of the root zone KSK operator's procedure: a
// signing disaster (4.1), a KSK compromise (4.2) and a lost KSK (4.3),
// each split by the availability of a key management facility (KMF), of
// the crypto officers (COs), of the recovery key share holders (RKSHs)
// and of the KSK's backup.
package dr

import (
	"errors"
	"fmt"
	"strings"
)

// Disaster is what happened.
type Disaster string

// The three disasters of the procedure.
const (
	// Signing: no SKR can be produced in a standard ceremony before the
	// DNSKEY RRSIGs of the SKR in force expire; the KSK is safe.
	Signing Disaster = "signing"
	// Compromise: the KSK's private key is, or must be presumed, known
	// outside its HSMs.
	Compromise Disaster = "compromise"
	// Lost: no HSM can use the KSK any more.
	Lost Disaster = "lost"
)

// Disasters lists the disasters in the procedure's order.
var Disasters = []Disaster{Signing, Compromise, Lost}

// ErrNoDisaster reports a situation that the procedure does not treat as
// a disaster: everything a standard ceremony needs is available, so the
// ceremony is held (or rescheduled) as usual.
var ErrNoDisaster = errors.New("not a disaster")

// ErrSituation reports a situation that is not described completely.
var ErrSituation = errors.New("incomplete situation")

// Situation is what is still available when a disaster is declared. Every
// field but Prolonged must be set for the disaster that uses it; Choose
// says which is missing.
type Situation struct {
	// Disaster is what happened.
	Disaster Disaster
	// KMF: at least one key management facility can hold a ceremony in
	// time.
	KMF *bool
	// COs: the DPS minimum of crypto officers can attend (or send their
	// credentials with a chain of custody).
	COs *bool
	// RKSHs: enough recovery key share holders can attend to restore the
	// backup (lost KSK only).
	RKSHs *bool
	// Backup: the KSK's encrypted backup is available (lost KSK only).
	Backup *bool
	// Prolonged: a high risk that people or facilities will be
	// unavailable for longer than the SKRs in hand last (signing only):
	// extra RRSIGs are signed ahead (4.1.3).
	Prolonged bool
}

// Script is a ceremony script of scripts/dr/ with what it is for.
type Script struct {
	// File is the script's file name in scripts/dr/.
	File string `json:"file"`
	// Purpose says what the script does.
	Purpose string `json:"purpose"`
}

// Choice is the variant that applies and the scripts that carry it out,
// in the order they are run.
type Choice struct {
	// Section is the procedure's variant, for example 4.1.2A.
	Section string `json:"section"`
	// Title names the variant.
	Title string `json:"title"`
	// Scripts are the ceremonies of the variant: its own, then the
	// follow-up extraordinary ceremony it leads to, if any.
	Scripts []Script `json:"scripts"`
	// Alternative, when not empty, is a documented alternative to the
	// variant's own script and when it applies.
	Alternative *Script `json:"alternative,omitempty"`
	// Trust names what happens to the trust anchors: unchanged, new (a
	// KSK that validators must install by hand), or rollover.
	Trust string `json:"trust_anchor"`
}

// FollowUpNewKSK is the follow-up of every variant that leaves a temporary
// KSK: a new KSK and an RFC 5011 rollover to it.
const FollowUpNewKSK = "4.1.1+4.1.2B+4.2.1B+4.2.2A+4.2.2B+4.3.1C+4.3.2B-followup-new-ksk-rollover.yaml"

const (
	trustUnchanged = "unchanged: the KSK in operation signs"
	trustNew       = "new: validators must install the trust anchor published in the ceremony; RFC 5011 resolvers cannot learn it, since no key they trust signs it"
)

func followUp(compromise bool) Script {
	p := "once a KMF (and the DPS minimum of COs) is available: a new KSK, its SKR, credentials, and an RFC 5011 rollover from the temporary KSK"
	if compromise {
		p = "with --param compromise=true, once a KMF is available: the compromised HSMs replaced, a new KSK, its SKR, credentials, and an RFC 5011 rollover from the temporary KSK"
	}
	return Script{File: FollowUpNewKSK, Purpose: p}
}

func temporary(section, title, file string, compromise bool) Choice {
	return Choice{Section: section, Title: title, Trust: trustNew, Scripts: []Script{
		{File: file, Purpose: "a temporary KSK in the standby HSM outside the KMFs, the KSR signed by it, its trust anchor published"},
		followUp(compromise)}}
}

// Choose returns the variant of the procedure for a situation. It wraps
// ErrSituation when a needed availability is not given, naming it, and
// ErrNoDisaster when nothing is missing.
func Choose(s Situation) (Choice, error) {
	need := func(name string, v *bool) (bool, error) {
		if v == nil {
			return false, fmt.Errorf("%w: a %s disaster needs to know %s", ErrSituation, s.Disaster, name)
		}
		return *v, nil
	}
	switch s.Disaster {
	case Signing:
		if s.Prolonged {
			return Choice{Section: "4.1.3", Title: "high risk of prolonged unavailability of people or facilities", Trust: trustUnchanged, Scripts: []Script{
				{File: "4.1.3-prepare-extended-signing.yaml", Purpose: "at the next regular ceremony: the assessment and plan recorded, the extra quarters signed and sealed away"},
				{File: "4.1.3-release-extended-skrs.yaml", Purpose: "when the zone maintainer needs them: the sealed SKRs given over unchanged"}}}, nil
		}
		kmf, err := need("whether a KMF is available (--kmf)", s.KMF)
		if err != nil {
			return Choice{}, err
		}
		cos, err := need("whether the crypto officers can attend (--cos)", s.COs)
		if err != nil {
			return Choice{}, err
		}
		switch {
		case kmf && cos:
			return Choice{}, fmt.Errorf("%w: a KMF and the crypto officers are available: hold (or reschedule) the standard signing ceremony", ErrNoDisaster)
		case !kmf && cos:
			c := temporary("4.1.1", "signing disaster, KMFs unavailable", "4.1.1-kmfs-unavailable-temporary-ksk.yaml", false)
			c.Alternative = &Script{File: "4.1.1-alternative-restore-from-backup.yaml", Purpose: "when the backup and 5 RKSHs can reach an alternate site: KSK-2027 restored there, trust anchors unchanged (a documented deviation)"}
			return c, nil
		case kmf && !cos:
			return Choice{Section: "4.1.2A", Title: "signing disaster, COs unavailable, a KMF accessible", Trust: trustUnchanged, Scripts: []Script{
				{File: "4.1.2A-cos-unavailable-kmf-drill.yaml", Purpose: "unless it can be rescheduled before the RRSIGs expire (ksk dr deadline): the absent COs' boxes drilled, each bag checked, the KSR signed by the KSK in operation"},
				{File: "4.1.2A-4-followup-rekey-safe-deposit-boxes.yaml", Purpose: "once the DPS minimum of COs can attend: new credentials in new bags, a new KSR signed"}}}, nil
		default:
			return temporary("4.1.2B", "signing disaster, COs unavailable, no KMF", "4.1.2B-cos-unavailable-no-kmf-temporary-ksk.yaml", false), nil
		}
	case Compromise:
		kmf, err := need("whether a KMF is available (--kmf)", s.KMF)
		if err != nil {
			return Choice{}, err
		}
		cos, err := need("whether the crypto officers can attend (--cos)", s.COs)
		if err != nil {
			return Choice{}, err
		}
		switch {
		case kmf && cos:
			return Choice{Section: "4.2.1A", Title: "KSK compromise, COs can attend, a KMF available", Trust: "rollover by revocation: a new KSK and its trust anchor; the compromised KSK signs its own revocation (RFC 5011 §2.1)", Scripts: []Script{
				{File: "4.2.1A-compromise-cos-kmf-new-ksk.yaml", Purpose: "a new KSK backed up, the KSR signed by it with the compromised KSK revoked, the compromised KSK destroyed, the hardware replaced"}}}, nil
		case !kmf && cos:
			return temporary("4.2.1B", "KSK compromise, COs can attend, no KMF", "4.2.1B-compromise-cos-no-kmf-temporary-ksk.yaml", true), nil
		case kmf && !cos:
			return Choice{Section: "4.2.2A", Title: "KSK compromise, COs cannot attend, a KMF available", Trust: trustNew, Scripts: []Script{
				{File: "4.2.2A-compromise-no-cos-kmf-drill.yaml", Purpose: "the boxes drilled, the compromised KSK destroyed, a temporary KSK in a new HSM, the KSR signed by it, its trust anchor published"},
				followUp(true)}}, nil
		default:
			return temporary("4.2.2B", "KSK compromise, COs cannot attend, no KMF", "4.2.2B-compromise-no-cos-no-kmf-temporary-ksk.yaml", true), nil
		}
	case Lost:
		kmf, err := need("whether a KMF is available (--kmf)", s.KMF)
		if err != nil {
			return Choice{}, err
		}
		rkshs, err := need("whether the recovery key share holders can attend (--rkshs)", s.RKSHs)
		if err != nil {
			return Choice{}, err
		}
		if !rkshs {
			if kmf {
				return Choice{Section: "4.3.2A", Title: "lost KSK, RKSHs cannot attend, a KMF available", Trust: trustNew, Scripts: []Script{
					{File: "4.3.2A-no-rkshs-kmf-temporary-ksk.yaml", Purpose: "a temporary KSK (backup-able) in a new HSM, the KSR signed by it, its trust anchor published"},
					{File: "4.3.2A-6-followup-distribute-rksh-credentials.yaml", Purpose: "once all RKSHs are available: the temporary KSK backed up under their quorum"}}}, nil
			}
			return temporary("4.3.2B", "lost KSK, RKSHs cannot attend, no KMF", "4.3.2B-no-rkshs-no-kmf-temporary-ksk.yaml", false), nil
		}
		if !kmf {
			return temporary("4.3.1C", "lost KSK, no KMF (so no backup)", "4.3.1C-lost-ksk-no-kmf-temporary-ksk.yaml", false), nil
		}
		backup, err := need("whether the KSK's backup is available (--backup)", s.Backup)
		if err != nil {
			return Choice{}, err
		}
		if backup {
			return Choice{Section: "4.3.1A", Title: "lost KSK, a KMF and the backup available", Trust: trustUnchanged, Scripts: []Script{
				{File: "4.3.1A-lost-ksk-restore-from-backup.yaml", Purpose: "the KSK rebuilt in another HSM from the backup and 5 RKSHs' credentials, the KSR signed"}}}, nil
		}
		return Choice{Section: "4.3.1B", Title: "lost KSK, a KMF available, no backup", Trust: trustNew, Scripts: []Script{
			{File: "4.3.1B-lost-ksk-no-backup-new-ksk.yaml", Purpose: "a new KSK in a new HSM, the KSR signed by it, its trust anchor published"}}}, nil
	}
	var names []string
	for _, d := range Disasters {
		names = append(names, string(d))
	}
	return Choice{}, fmt.Errorf("%w: disaster %q; want one of %s", ErrSituation, s.Disaster, strings.Join(names, ", "))
}
