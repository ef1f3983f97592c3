package ceremony

import "errors"

// Sentinel errors; test them with errors.Is.
var (
	// ErrRead means a script, answers or input file cannot be read.
	ErrRead = errors.New("cannot read file")
	// ErrSyntax means a script or answers file is not well-formed YAML.
	ErrSyntax = errors.New("malformed YAML")
	// ErrUnknownKey means a key the format does not have.
	ErrUnknownKey = errors.New("unknown key")
	// ErrInvalid means a script is not valid: a wrong value, a missing
	// field, a reference to an undefined participant, quorum, HSM or file.
	ErrInvalid = errors.New("invalid ceremony script")
	// ErrAnswers means the answers file lacks an answer the ceremony needs
	// or is not usable for this script.
	ErrAnswers = errors.New("answers file")
	// ErrNotConfirmed means an operator did not confirm a step.
	ErrNotConfirmed = errors.New("not confirmed")
	// ErrStepFailed means a step examined its input and rejected it: a
	// KSR that does not validate, PGP words that do not match, a quorum
	// not met, a witness signature that does not verify.
	ErrStepFailed = errors.New("step failed")
	// ErrResume means the log cannot be resumed with this script: another
	// script, a file changed since it was recorded, or a step that touched
	// the HSM, was not finished and was not confirmed for repetition.
	ErrResume = errors.New("cannot resume")
	// ErrInterrupted means the operator interrupted the ceremony (Ctrl-C)
	// while a question waited for its answer.
	ErrInterrupted = errors.New("interrupted")
	// ErrEnvironment means an HSM, module or file system problem.
	ErrEnvironment = errors.New("environment")
)

var sentinels = struct{ Syntax, UnknownKey, Invalid error }{ErrSyntax, ErrUnknownKey, ErrInvalid}
