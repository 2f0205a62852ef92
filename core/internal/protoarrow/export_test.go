package protoarrow

// FastValid exposes the validator's wire walk alone to the tests.
func FastValid(v *Validator, rec []byte) bool { return v.fastValid(rec) }
