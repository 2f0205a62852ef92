package core_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// LogAttributes (the Python package's log_attributes, the Spark task's
// identity) sorts the attributes by name, keeps whole numbers integers and
// refuses what a log line cannot carry, naming the attribute.
func TestS20LogAttributes(t *testing.T) {
	got, err := core.LogAttributes(map[string]any{
		"spark_partition": json.Number("3"), "spark_job_id": "j1", "ratio": json.Number("0.5"), "retry": false, "n": 7.0,
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(got); s != "[n=7 ratio=0.5 retry=false spark_job_id=j1 spark_partition=3]" {
		t.Errorf("attributes %s", s)
	}
	kinds := map[string]slog.Kind{"n": slog.KindFloat64, "ratio": slog.KindFloat64, "retry": slog.KindBool, "spark_job_id": slog.KindString, "spark_partition": slog.KindInt64}
	for _, a := range got {
		if a, ok := a.(slog.Attr); !ok || a.Value.Kind() != kinds[a.Key] {
			t.Errorf("%v: kind %v, want %v", a, a.Value.Kind(), kinds[a.Key])
		}
	}
	for _, tc := range []struct {
		m    map[string]any
		want string
	}{
		{map[string]any{"": "x"}, "an empty name"},
		{map[string]any{"spark": map[string]any{"p": 1}}, `log attribute "spark": a JSON object`},
		{map[string]any{"ids": []any{1}}, `log attribute "ids": a JSON list`},
		{map[string]any{"a": nil}, `log attribute "a": no value`},
	} {
		_, err := core.LogAttributes(tc.m)
		var ce *core.ConfigurationError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LogAttributes(%v) = %v, want a ConfigurationError with %q", tc.m, err, tc.want)
		}
	}
}
