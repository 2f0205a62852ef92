package core

import (
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// ErrorDetails is the structured view of an error of this package, for
// programs and language bindings that decide on data rather than message
// text (the Python package receives it as JSON, with these tags). Every
// text in it is taken from the error's own (already redacted) messages and
// fields: secrets never appear.
type ErrorDetails struct {
	// Kind is KindOf(err).
	Kind ErrorKind `json:"kind"`
	// Message is err.Error().
	Message string `json:"message"`
	// Retryable is IsRetryable(err); Fatal is Kind.Fatal().
	Retryable bool `json:"retryable"`
	Fatal     bool `json:"fatal"`
	// GRPCCode is the name of the gRPC status code in the chain (e.g.
	// "UNAVAILABLE", "INVALID_ARGUMENT"), "" if none.
	GRPCCode string `json:"grpc_code"`
	// Reason is the machine-readable reason the server gave: the
	// google.rpc.ErrorInfo reason of a gRPC status (e.g.
	// "SCHEMA_VALIDATION_FAILED") or the OAuth "error" field of a token
	// response (e.g. "invalid_client"). For a schema this package refuses
	// before sending, it is the code every column at fault shares
	// ("ZONED_TIMESTAMP_INTO_NTZ": a timestamp in a zone other than UTC for
	// a TIMESTAMP_NTZ column; Columns names them). "" if none.
	Reason string `json:"reason,omitempty"`
	// ServerCauses are the ErrorInfo causes the server attached (e.g.
	// FIELD_NOT_IN_TABLE).
	ServerCauses []string `json:"server_causes,omitempty"`
	// HTTPStatus is the token endpoint's HTTP status, 0 if none.
	HTTPStatus int `json:"http_status,omitempty"`
	// Row is the index of the row at fault in the caller's input (as
	// FailedRow.Index; across the batches of a SendReader input), -1 if the
	// error is not about one row.
	Row int `json:"row"`
	// Column is the dotted path of the column at fault ("address.zip"), ""
	// if not about one column; Columns lists every column named when a
	// schema problem names several.
	Column  string   `json:"column,omitempty"`
	Columns []string `json:"columns,omitempty"`
	// Attempts is how many attempts were made before retries were exhausted
	// (0 if the error is not a *RetryExhaustedError).
	Attempts int `json:"attempts,omitempty"`
	// Keys are the settings at fault, by key (table_name, the Python keyword
	// and YAML key): every problem of a *ConfigurationError, the setting
	// holding a host name that does not resolve, the credentials or
	// unity_catalog_url an *AuthenticationError names, table_name for a
	// table that does not exist.
	Keys []string `json:"keys,omitempty"`
	// KeyMessages says what is wrong with each of Keys, in the same order,
	// when the error says it per key (an error with a method
	// KeyProblems() (keys, msgs []string), such as a zerobuslocal
	// *OptionsError: "must not be negative (0: the default)").
	KeyMessages []string `json:"key_messages,omitempty"`
	// Causes are the errors that led to this one, described the same way:
	// the last failure of exhausted retries, the members of an errors.Join,
	// or the next error of this package wrapped inside. At most
	// MaxErrorCauses per level and three levels deep; CausesOmitted counts
	// the members left out.
	Causes        []ErrorDetails `json:"causes,omitempty"`
	CausesOmitted int            `json:"causes_omitted,omitempty"`
}

// MaxErrorCauses bounds ErrorDetails.Causes at each level.
const MaxErrorCauses = 8

// maxCauseDepth bounds the nesting of ErrorDetails.Causes.
const maxCauseDepth = 3

// DetailsOf describes err as data (see ErrorDetails). DetailsOf(nil) has an
// empty Kind and Message, and Row -1.
func DetailsOf(err error) ErrorDetails {
	return detailsOf(err, maxCauseDepth)
}

func detailsOf(err error, depth int) ErrorDetails {
	d := ErrorDetails{Row: -1}
	if err == nil {
		return d
	}
	d.Kind = KindOf(err)
	d.Message = err.Error()
	d.Retryable = IsRetryable(err)
	d.Fatal = d.Kind.Fatal()

	// One walk over the chain, in the order errors.As searches, keeping the
	// first error of each type: a result with many failed rows describes
	// one error per row, so this stays cheap.
	var (
		te  *TransmissionError
		se  *stream.ServerError
		gs  interface{ GRPCStatus() *status.Status }
		tke *stream.TokenError
		tre *TokenRefreshError
		re  *RetryExhaustedError
		sre *stream.RetryExhaustedError
		cfg *ConfigurationError
		hn  *stream.HostNotFoundError
		cf  *stream.CertificateError
		ce  *ConversionError
		rwe *convert.RowError
		sm  *SchemaMismatchError
		sce *convert.SchemaError
		kp  interface{ KeyProblems() (keys, msgs []string) }
	)
	walkChain(err, func(e error) {
		switch x := e.(type) { //nolint:errorlint // e is one element of the chain
		case *TransmissionError:
			te = first(te, x)
		case *stream.ServerError:
			se = first(se, x)
		case *stream.TokenError:
			tke = first(tke, x)
		case *TokenRefreshError:
			tre = first(tre, x)
		case *RetryExhaustedError:
			re = first(re, x)
		case *stream.RetryExhaustedError:
			sre = first(sre, x)
		case *ConfigurationError:
			cfg = first(cfg, x)
		case *stream.HostNotFoundError:
			hn = first(hn, x)
		case *stream.CertificateError:
			cf = first(cf, x)
		case *ConversionError:
			ce = first(ce, x)
		case *convert.RowError:
			rwe = first(rwe, x)
		case *SchemaMismatchError:
			sm = first(sm, x)
		case *convert.SchemaError:
			sce = first(sce, x)
		}
		if g, ok := e.(interface{ GRPCStatus() *status.Status }); ok && gs == nil { //nolint:errorlint // one element
			gs = g
		}
		if k, ok := e.(interface{ KeyProblems() (keys, msgs []string) }); ok && kp == nil { //nolint:errorlint // one element
			kp = k
		}
	})

	switch {
	case te != nil && te.Code != codes.OK:
		d.GRPCCode = CodeName(te.Code)
	case se != nil:
		d.GRPCCode = CodeName(se.Code)
	case gs != nil:
		if st := gs.GRPCStatus(); st != nil && st.Code() != codes.OK {
			d.GRPCCode = CodeName(st.Code())
		}
	}
	if se != nil {
		d.Reason = se.Reason
		d.ServerCauses = append([]string(nil), se.Causes...)
	} else if tke != nil {
		d.Reason = tke.ErrorCode
	}
	switch {
	case tre != nil:
		d.HTTPStatus = tre.StatusCode
	case tke != nil:
		d.HTTPStatus = tke.StatusCode
	}
	switch {
	case re != nil:
		d.Attempts = re.Attempts
	case sre != nil:
		d.Attempts = sre.Attempts
	}
	switch {
	case ce != nil:
		d.Row, d.Column = ce.Row, ce.Column
	case rwe != nil:
		d.Row, d.Column = rwe.Row, rwe.Column
	}
	var codes []string // of the columns (problems) at fault, for Reason
	switch {
	case sm != nil:
		for _, c := range sm.Columns {
			d.Columns = append(d.Columns, c.Column)
			codes = append(codes, c.Code)
		}
	case sce != nil:
		for _, p := range sce.Problems {
			if p.Column != "" {
				d.Columns = append(d.Columns, p.Column)
			}
			codes = append(codes, p.Code)
		}
	}
	if d.Reason == "" && len(codes) > 0 && codes[0] != "" && !slices.ContainsFunc(codes, func(c string) bool { return c != codes[0] }) {
		d.Reason = codes[0]
	}
	if d.Column == "" && len(d.Columns) == 1 {
		d.Column = d.Columns[0]
	}
	switch {
	case cfg != nil:
		d.Keys = configKeys(cfg)
	case hn != nil:
		d.Keys = []string{hostSettingKey(hn.Setting)}
	case cf != nil && tlsMixUp(cf):
		d.Keys = []string{hostSettingKey(cf.Setting)} // an http/https mix-up: the URL's scheme, not the CA file
	case cf != nil:
		d.Keys = []string{"tls_ca_file", hostSettingKey(cf.Setting)}
	case kp != nil:
		d.Keys, d.KeyMessages = kp.KeyProblems()
	}
	if depth > 1 {
		causes := causesOf(err, re)
		if len(causes) > MaxErrorCauses {
			d.CausesOmitted = len(causes) - MaxErrorCauses
			causes = causes[:MaxErrorCauses]
		}
		for _, c := range causes {
			d.Causes = append(d.Causes, detailsOf(c, depth-1))
		}
	}
	return d
}

// first returns cur, or x when cur is nil.
func first[T comparable](cur, x T) T {
	var zero T
	if cur == zero {
		return x
	}
	return cur
}

// walkChain calls f for err and every error it wraps, depth first (the
// order errors.As searches).
func walkChain(err error, f func(error)) {
	for err != nil {
		f(err)
		switch u := err.(type) { //nolint:errorlint // walking the chain by hand
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walkChain(e, f)
			}
			return
		default:
			return
		}
	}
}

// configKeys names every problem of ce by key (its Config field when it has
// no key, as for options), each once.
func configKeys(ce *ConfigurationError) []string {
	var keys []string
	seen := map[string]bool{}
	for _, p := range ce.Problems {
		k := p.YAMLKey
		if k == "" {
			k = p.Field
		}
		if k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// causesOf returns the errors that led to err: the last failure of
// exhausted retries (re: the first in err's chain, or nil), else the
// members of the first errors.Join in the chain or the next error of this
// package wrapped below the outermost one.
func causesOf(err error, re *RetryExhaustedError) []error {
	if re != nil {
		if re.Last == nil {
			return nil
		}
		if j, ok := re.Last.(interface{ Unwrap() []error }); ok { //nolint:errorlint // the joined error itself
			return j.Unwrap()
		}
		return []error{re.Last}
	}
	seenTyped := false
	for e := err; e != nil; {
		if j, ok := e.(interface{ Unwrap() []error }); ok { //nolint:errorlint // walking the chain by hand
			return j.Unwrap()
		}
		if _, ok := e.(kinded); ok { //nolint:errorlint // walking the chain by hand
			if seenTyped {
				return []error{e}
			}
			seenTyped = true
		}
		u, ok := e.(interface{ Unwrap() error }) //nolint:errorlint // walking the chain by hand
		if !ok {
			return nil
		}
		e = u.Unwrap()
	}
	return nil
}

// CodeName returns the canonical name of a gRPC code as the protocol spells
// it: "UNAVAILABLE", "INVALID_ARGUMENT", "OK" ("CODE_17" for codes gRPC does
// not define).
func CodeName(c codes.Code) string { return stream.CodeName(c) }

// tlsMixUp reports whether cf is an http/https mix-up (its cause a
// *stream.TLSMismatchError), not a certificate that failed verification.
func tlsMixUp(cf *stream.CertificateError) bool {
	_, ok := cf.Err.(*stream.TLSMismatchError) //nolint:errorlint // the direct cause, as certFailure sets it
	return ok
}
