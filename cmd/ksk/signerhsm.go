package main

import "github.com/ksk-dev/ksk/signer"

// openSignerHSM opens and logs in to the HSM of a signer configuration
// (ksk sign, ksk trust-anchor): the flags, else the configuration's hsm
// section, else the environment ($KSK_PKCS11_MODULE, $KSK_TOKEN,
// $KSK_TOKEN_SERIAL, $KSK_PIN_SOURCE). configPath only names the file in
// the error when no token is given anywhere.
func openSignerHSM(a *app, hf hsmFlags, cfg *signer.Config, configPath string) (*session, error) {
	hf.module = firstNonEmpty(hf.module, cfg.HSM.Module)
	if hf.token == "" && hf.tokenSerial == "" {
		hf.token, hf.tokenSerial = cfg.HSM.Token, cfg.HSM.TokenSerial
	}
	hf.pinSource = firstNonEmpty(hf.pinSource, cfg.HSM.PINSource)
	if !hf.hasSelector() {
		return nil, usageErrorf("no token: give hsm.token or hsm.token_serial in %s, --token, or $%s", configPath, envToken)
	}
	return hf.open(a, true)
}
