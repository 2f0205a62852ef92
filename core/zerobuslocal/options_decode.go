package zerobuslocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"time"
)

// DecodeOptions decodes Options from their JSON form (see Options; unknown
// keys are errors) and checks them (Options.Check). A value the form cannot
// hold, such as a duration past the longest time.Duration (about 292
// years), is an *OptionsError naming its key, as an option out of range is,
// and so is a 0 given for an option whose 0 may be misread
// (ExplicitZeroProblem: stream_lifetime_ns). Language bindings pass options
// this way.
func DecodeOptions(text []byte) (Options, error) {
	var o Options
	if err := decodeJSON(text, &o, ErrInvalidOptions); err != nil {
		return Options{}, err
	}
	var bad []OptionProblem
	var given map[string]json.RawMessage
	_ = json.Unmarshal(text, &given) // decoded above: an object (or blank)
	for _, key := range slices.Sorted(maps.Keys(zeroRefused)) {
		if v, ok := given[key]; ok && isZeroNumber(v) {
			bad = append(bad, OptionProblem{Field: fieldPath(reflect.TypeFor[Options](), key), Key: key, Value: "0", Msg: zeroRefused[key]})
		}
	}
	var oe *OptionsError
	if err := o.Check(); errors.As(err, &oe) {
		bad = append(bad, oe.Problems...)
	}
	if len(bad) > 0 {
		return Options{}, &OptionsError{Problems: bad}
	}
	return o, nil
}

// isZeroNumber reports whether v is a JSON number equal to 0.
func isZeroNumber(v json.RawMessage) bool {
	var n json.Number
	if json.Unmarshal(v, &n) != nil {
		return false
	}
	f, err := n.Float64()
	return err == nil && f == 0
}

// DecodeFault decodes a Fault from its JSON form (see Fault; unknown keys
// are errors). A value the form cannot hold (a duration past about 292
// years), an unknown kind and a value out of range (Fault.Check: a negative
// duration or count) are an *OptionsError wrapping ErrInvalidFault, naming
// the key.
func DecodeFault(text []byte) (Fault, error) {
	var f Fault
	if err := decodeJSON(text, &f, ErrInvalidFault); err != nil {
		return Fault{}, err
	}
	if err := f.Check(); err != nil {
		return Fault{}, err
	}
	return f, nil
}

// faultKinds is every FaultKind, in the order documented.
var faultKinds = []FaultKind{FaultError, FaultEndStream, FaultDropConnection, FaultStallAcks, FaultCloseSignal,
	FaultExpireToken, FaultTokenError, FaultTokenLatency, FaultCreateDelay, FaultPartialAck}

// FaultKinds returns every FaultKind (a fresh copy).
func FaultKinds() []FaultKind { return slices.Clone(faultKinds) }

// problem says what is wrong with k ("" for a known kind).
func (k FaultKind) problem() string {
	if slices.Contains(faultKinds, k) {
		return ""
	}
	names := make([]string, len(faultKinds))
	for i, fk := range faultKinds {
		names[i] = string(fk)
	}
	return "must be one of " + strings.Join(names, ", ")
}

// decodeJSON decodes text ("" or blanks: {}) into v strictly; a value of
// the wrong JSON type or out of its Go type's range is an *OptionsError
// wrapping of.
func decodeJSON(text []byte, v any, of error) error {
	if len(bytes.TrimSpace(text)) == 0 {
		text = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		value, msg := typeProblem(te)
		p := OptionProblem{Field: fieldPath(reflect.TypeOf(v).Elem(), te.Field), Key: te.Field, Value: value, Msg: msg}
		return &OptionsError{Problems: []OptionProblem{p}, of: of}
	}
	if err != nil {
		return fmt.Errorf("%w: %v", of, err)
	}
	return nil
}

// typeProblem says what is wrong with a JSON value its field cannot hold:
// a number out of range or not whole, or a value of another JSON type.
func typeProblem(te *json.UnmarshalTypeError) (value, msg string) {
	isDuration := te.Type == reflect.TypeFor[time.Duration]()
	if num, ok := strings.CutPrefix(te.Value, "number "); ok {
		switch f, _, err := big.ParseFloat(num, 10, 200, big.ToNearestEven); {
		case err == nil && isDuration && !f.IsInt():
			return num, "must be a whole number of nanoseconds"
		case err == nil && isDuration && f.Sign() < 0:
			return num, "must be a duration of at least about -292 years (the shortest a Go time.Duration holds)"
		case err == nil && isDuration:
			return num, "must be a duration of at most about 292 years (the longest a Go time.Duration holds)"
		case err == nil && f.IsInt():
			return num, fmt.Sprintf("is out of range for %s", te.Type)
		}
		return num, "must be a whole number"
	}
	want := map[reflect.Kind]string{reflect.Int: "an integer", reflect.Int64: "an integer", reflect.Bool: "true or false",
		reflect.String: "a string", reflect.Slice: "a list"}[te.Type.Kind()]
	if isDuration {
		want = "a duration in nanoseconds (an integer)"
	}
	if want == "" {
		want = te.Type.String()
	}
	return "a JSON " + te.Value, "must be " + want
}

// fieldPath is the Go field path ("AckPolicy.Delay") of a JSON key path
// ("ack_policy.delay_ns") in struct type t.
func fieldPath(t reflect.Type, key string) string {
	var names []string
	for _, k := range strings.Split(key, ".") {
		if t.Kind() != reflect.Struct {
			return key
		}
		found := false
		for i := range t.NumField() {
			if f := t.Field(i); f.Tag.Get("json") == k {
				names, t, found = append(names, f.Name), f.Type, true
				break
			}
		}
		if !found {
			return key
		}
	}
	return strings.Join(names, ".")
}
