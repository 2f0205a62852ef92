package core

import "errors"

// givenAt says how one source gave a setting that loaded: the environment
// variable that was read (when not the primary one) and a prefix for the
// problem's message (a YAML file's "line N: ").
type givenAt struct {
	envVar string
	prefix string
}

// withRestChecked returns a loader's value problems ps followed by the
// problems Validate finds in cfg, the loader's result with the keys at
// fault left as they were (the defaults): one round then shows every
// problem, not the values' formats first and their combinations after.
// Validate's problems about a key at fault are dropped (ps names it
// already). When given is not nil, only the problems about the fields it
// holds are kept, the settings this source gave and that loaded: a source
// that is not the whole configuration (a YAML file or the environment,
// which flags or code may complete) is not told a setting it leaves out is
// missing.
func withRestChecked(cfg Config, ps []ConfigProblem, given map[string]givenAt) []ConfigProblem {
	bad := make(map[string]bool, len(ps))
	for _, p := range ps {
		bad[p.Field] = true
	}
	var ce *ConfigurationError
	if !errors.As(cfg.Validate(), &ce) {
		return ps
	}
	out := append([]ConfigProblem(nil), ps...)
	for _, p := range ce.Problems {
		if bad[p.Field] {
			continue
		}
		if given != nil {
			g, ok := given[p.Field]
			if !ok {
				continue
			}
			if g.envVar != "" {
				p.EnvVar = g.envVar
			}
			if g.prefix != "" {
				p.Message = g.prefix + p.Message
				if p.keyMessage != "" {
					p.keyMessage = g.prefix + p.keyMessage
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// ValidateSettings is ConfigFromSettings followed by Config.Validate in one
// round, for settings that are the whole configuration (the Python
// package's): a value ConfigFromSettings refuses (retry_max_attempts=0,
// "abc" for an integer) no longer hides the problems Validate finds in the
// other settings (a table name with a space, a missing endpoint); they are
// reported together as one *ConfigurationError named by key. It returns nil
// when the settings load and validate.
func ValidateSettings(settingsMap map[string]any) error {
	cfg, ps := configFromSettings(settingsMap)
	if len(ps) == 0 {
		return ByKeyError(cfg.Validate())
	}
	return &ConfigurationError{Problems: withRestChecked(cfg, ps, nil), ByKey: true}
}
