package ceremony

import (
	"reflect"
	"sort"
	"strings"
)

// Step types.
const (
	TypeNarrative        = "narrative"
	TypeConfirm          = "confirm"
	TypeQuorum           = "quorum"
	TypeHSMActivate      = "hsm-activate"
	TypeTokenInit        = "token-init"
	TypeCredentialsIssue = "credentials-issue"
	TypeKSRLoad          = "ksr-load"
	TypeKSRHash          = "ksr-hash"
	TypeSign             = "sign"
	TypeWriteOutputs     = "write-outputs"
	TypeKeygen           = "keygen"
	TypeTrustAnchor      = "trust-anchor"
	TypeWitness          = "witness"
	TypeSeal             = "seal"
	TypeKeyDestroy       = "key-destroy"
	TypeNotify           = "notify"
	TypeRecord           = "record"
	TypeCustody          = "custody"
	TypeRekorPublish     = "rekor-publish"
)

// Roles of participants, after the root zone KSK ceremonies.
const (
	RoleCeremonyAdministrator  = "ceremony-administrator"
	RoleInternalWitness        = "internal-witness"
	RoleSystemAdministrator    = "system-administrator"
	RoleSafeController         = "safe-controller"
	RoleCryptoOfficer          = "crypto-officer"
	RoleRecoveryKeyShareHolder = "recovery-key-share-holder"
	RoleTCR                    = "tcr"
	RoleExternalWitness        = "external-witness"
	RoleAuditor                = "auditor"
)

// Roles lists every participant role.
var Roles = []string{RoleCeremonyAdministrator, RoleInternalWitness, RoleSystemAdministrator, RoleSafeController,
	RoleCryptoOfficer, RoleRecoveryKeyShareHolder, RoleTCR, RoleExternalWitness, RoleAuditor}

// kind describes a step type: the fields it takes, and how it is checked
// and run.
type kind struct {
	// fields are the step fields the type takes besides the common ones.
	fields []string
	// required are those of fields that must be set.
	required []string
	// touchesHSM marks a step whose repetition is never silent: the log
	// records it as started before it touches the HSM.
	touchesHSM bool
	// session marks a step that builds in-memory state (a reconstructed
	// secret, a logged-in token) that a resumed ceremony must rebuild.
	session bool
	// selfRecording marks a step whose own log entries (a seal, witness
	// signatures) are its record: no started or done entry is written.
	selfRecording bool
	// summary describes the type for the plan.
	summary string
	run     func(r *Runner, x *stepRun) error
	// restore rebuilds what a done step left in memory when a ceremony
	// resumes (nil: nothing).
	restore func(r *Runner, x *stepRun) error
}

// commonFields are the fields every step type takes.
var commonFields = []string{"id", "type", "title", "actor", "text", "expect", "ref", "when"}

var kinds map[string]*kind

func init() {
	kinds = map[string]*kind{
		TypeNarrative: {summary: "the actor reads or does what the text says", run: runNarrative},
		TypeConfirm:   {summary: "the actor confirms the expected result", run: runConfirm},
		TypeQuorum: {fields: []string{"quorum", "attempts"}, required: []string{"quorum"}, session: true,
			summary: "M of N credential holders present their credentials; the secret is rebuilt in memory", run: runQuorum},
		TypeHSMActivate: {fields: []string{"hsm", "quorum"}, required: []string{"hsm", "quorum"}, session: true, touchesHSM: true,
			summary: "log in to the HSM with the quorum's secret", run: runHSMActivate},
		TypeTokenInit: {fields: []string{"hsm", "quorum"}, required: []string{"hsm", "quorum"}, touchesHSM: true,
			summary: "initialise the token with a new random user PIN, held in memory for the quorum", run: runTokenInit},
		TypeCredentialsIssue: {fields: []string{"quorum", "out", "hsm", "new_quorum"}, required: []string{"quorum", "out"},
			summary: "split the quorum's new secret M-of-N into one credential per holder; with hsm, re-issue: change the activated HSM's PIN to a new one, so that the old credentials open nothing", run: runCredentialsIssue, restore: restoreCredentialsIssue},
		TypeKSRLoad: {fields: []string{"ksr", "previous_skr", "policy", "legacy", "at"}, required: []string{"ksr"},
			summary: "load and validate the KSR", run: runKSRLoad, restore: runKSRLoad},
		TypeKSRHash: {fields: []string{"words"},
			summary: "show the KSR's SHA-256 as PGP words; the actor types back the last words read by the zone maintainer", run: runKSRHash},
		TypeSign: {fields: []string{"hsm", "config", "schema", "out", "at"}, required: []string{"hsm", "config", "schema", "out"}, touchesHSM: true,
			summary: "sign the KSR into an SKR", run: runSign},
		TypeWriteOutputs: {fields: []string{"files", "to"}, required: []string{"files", "to"},
			summary: "copy outputs to the output media and check the copies", run: runWriteOutputs},
		TypeKeygen: {fields: []string{"hsm", "label", "algorithm", "bits", "backupable", "out"}, required: []string{"hsm", "label", "algorithm"}, touchesHSM: true,
			summary: "generate a key pair in the HSM", run: runKeygen},
		TypeTrustAnchor: {fields: []string{"hsm", "config", "keys", "out"}, required: []string{"hsm", "config", "out"}, touchesHSM: true,
			summary: "write the RFC 9718 trust anchor file for the configured KSKs, checked against the HSM", run: runTrustAnchor},
		TypeWitness: {fields: []string{"witnesses"}, required: []string{"witnesses"}, selfRecording: true,
			summary: "witnesses sign the log's head with their SSH keys", run: runWitness},
		TypeKeyDestroy: {fields: []string{"hsm", "label"}, required: []string{"hsm", "label"}, touchesHSM: true,
			summary: "destroy a key pair in the HSM, recording what was destroyed", run: runKeyDestroy},
		TypeRekorPublish: {fields: []string{"hsm", "key", "rekor_url", "rekor_key"}, required: []string{"hsm", "key", "rekor_url", "rekor_key"}, touchesHSM: true,
			summary: "publish the log's head in a Rekor transparency log, signed by the attestation key; the answer is verified against the pinned Rekor key and stored beside the log", run: runRekorPublish},
		TypeRecord: {fields: []string{"values", "compare_log"}, required: []string{"values"},
			summary: "the actor reads out values (bag numbers, serials, the time) that the log stores; with compare_log, each is compared with the previous ceremony's, and a difference is an exception the witnesses acknowledge", run: runRecord},
		TypeCustody: {fields: []string{"quorum", "holders", "method", "observers", "compare_log"}, required: []string{"quorum", "method", "observers", "compare_log"},
			summary: "the chain of custody of possession credentials: the bag number each arrived in is read out, compared with the one recorded when it was sealed; a match makes it usable at the quorum, a mismatch is an exception and that credential is refused", run: runCustody, restore: restoreCustody},
		TypeNotify: {fields: []string{"recipients"}, required: []string{"recipients"},
			summary: "the actor informs the recipients (the text says what); the log records that they were told", run: runNotify},
		TypeSeal: {fields: []string{"hsm", "key"}, required: []string{"hsm", "key"}, touchesHSM: true, selfRecording: true,
			summary: "sign the log's head with the ceremony attestation key in the HSM", run: runSeal},
		TypeKeyBackup: {fields: []string{"hsm", "quorum", "activation", "label", "out", "credentials_dir"}, required: []string{"hsm", "quorum", "activation", "label", "out", "credentials_dir"}, touchesHSM: true,
			summary: "back up a backup-able KSK: its wrapping key split among the recovery key share holders, the crypto officers logging the HSM in again after the security officer", run: runKeyBackup},
		TypeKeyRestore: {fields: []string{"hsm", "quorum", "backup", "label", "out"}, required: []string{"hsm", "quorum", "backup"}, touchesHSM: true,
			summary: "restore a backup into the HSM from M recovery key share holders' credentials, and prove the key signs as before", run: runKeyRestore},
		TypeRolloverPlan: {fields: []string{"config", "keys", "start", "out"}, required: []string{"config", "keys", "start", "out"},
			summary: "plan an RFC 5011 rollover: a signer configuration with the standard schemas and the schedule of the coming quarters", run: runRolloverPlan},
		TypeSignerConfig: {fields: []string{"hsm", "config", "keys", "label", "start", "out"}, required: []string{"hsm", "config", "keys", "label", "start", "out"}, touchesHSM: true,
			summary: "write a signer configuration naming a KSK of this ceremony, pinned by the key tag and DS read from the HSM", run: runSignerConfig},
	}
}

// StepTypes lists the step types, sorted.
func StepTypes() []string { return sortedKeys(kinds) }

// setFields returns the yaml names of a step's fields that are set.
func setFields(st *Step) []string {
	v := reflect.ValueOf(st).Elem()
	t := v.Type()
	var out []string
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		f := v.Field(i)
		if f.Kind() == reflect.Slice && f.Len() == 0 {
			continue // an empty list gives nothing: witnesses: [] is no witness
		}
		if !f.IsZero() {
			out = append(out, tag)
		}
	}
	sort.Strings(out)
	return out
}

// TypeSummary describes a step type in one sentence, as the plan shows it;
// "" for an unknown type.
func TypeSummary(t string) string {
	if k := kinds[t]; k != nil {
		return k.summary
	}
	return ""
}
