//go:build !unix

package debuglock

func hold(string) (func(), error) { return func() {}, nil }
