package cli

import (
	"strings"
	"testing"
)

// TestS18MistypedFlagSuggests: a mistyped flag got no "did you mean",
// although a mistyped command, YAML key or Python keyword does (s18
// review-config L5). A flag close to one of the command's gets the Go
// core's suggestion; one close to none gets the plain error.
func TestS18MistypedFlagSuggests(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		cmd, want string
	}{
		{[]string{"send", "-local", "-trasport", "protobuf", "f.csv"}, "send", `flag provided but not defined: -trasport; did you mean "-transport"?`},
		{[]string{"local", "--tsl"}, "local", `flag provided but not defined: -tsl; did you mean "-tls"?`},
		{[]string{"debug", "read", "-fromat", "json", "f.proto"}, "debug read", `flag provided but not defined: -fromat; did you mean "-format"?`},
		{[]string{"send", "-nope", "x.csv"}, "send", "flag provided but not defined: -nope\n"},
		{[]string{"version", "-x"}, "version", "flag provided but not defined: -x\n"},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		want := "zerobus " + tc.cmd + ": " + tc.want
		if code != ExitUsage || out != "" || !strings.HasPrefix(errOut, want) || !strings.HasSuffix(errOut, "run 'zerobus "+tc.cmd+" -h' for usage\n") {
			t.Errorf("zerobus %q: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, errOut, want)
		}
	}
}
