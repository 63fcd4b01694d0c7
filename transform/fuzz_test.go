package transform_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/transform"
)

// FuzzRender compiles arbitrary templates and paths and renders arbitrary
// events: nothing may panic, and a template that compiles as JSON (here:
// one starting with '{', which Compile accepts only as a JSON template)
// must render valid JSON.
func FuzzRender(f *testing.F) {
	f.Add(`{"a": <v>, "b": "x <v> y", "c": [<v>, <aws.events.event>]}`, "$.detail.s", ec2Event)
	f.Add(`"instance <v> is in <aws.events.rule-name>"`, "$.resources[0]", ec2Event)
	f.Add(`<v> is "<v>"`, "$.detail.*", `{"detail":{"a":"\"","b":[1,{"c":null}]}}`)
	f.Add(`{"e": <aws.events.event.json>, "t": "<aws.events.event.ingestion-time>"}`, "$", `[1,2]`)
	f.Add(`{"x": "\"<v>\\"}`, "$.a[0][1]", `{"a":[[0,"\u003c\\"]]}`)
	f.Fuzz(func(t *testing.T, template, path, event string) {
		target := wims.Target{InputTransformer: &wims.InputTransformer{
			InputPathsMap: map[string]string{"v": path}, InputTemplate: template}}
		if tr, err := transform.Compile(target); err == nil {
			out, err := tr.Render([]byte(event), rc)
			if err == nil && strings.HasPrefix(strings.TrimSpace(template), "{") && !json.Valid(out) {
				t.Fatalf("template %q on %q rendered invalid JSON %q", template, event, out)
			}
		}
		// An empty InputPath means the whole event, passed on unchecked.
		if tr, err := transform.Compile(wims.Target{InputPath: path}); err == nil && path != "" {
			out, err := tr.Render([]byte(event), rc)
			if err == nil && !json.Valid(out) {
				t.Fatalf("path %q on %q rendered invalid JSON %q", path, event, out)
			}
		}
	})
}

// FuzzJSONObjectTemplate builds JSON object templates whose placeholders
// sit only in value positions, in and out of strings, around fuzzed literal
// text: every successful render must be valid JSON.
func FuzzJSONObjectTemplate(f *testing.F) {
	f.Add("pre", "post", "$.detail.s", `{"detail":{"s":"a\"b\\c\u0000"}}`)
	f.Add("<", ">", "$.detail", ec2Event)
	f.Add(`\`, `"`, "$.detail.*", `{"detail":{"x":{"y":[1,"2"]}}}`)
	f.Fuzz(func(t *testing.T, pre, post, path, event string) {
		lit := func(s string) string {
			b, _ := json.Marshal(s)
			return string(b[1 : len(b)-1])
		}
		template := `{"out": <v>, "in": "` + lit(pre) + `<v>` + lit(post) + `", "arr": [<v>, "<aws.events.event>", <aws.events.event>], "` +
			lit(pre) + `": <aws.events.rule-arn>}`
		tr, err := transform.Compile(wims.Target{InputTransformer: &wims.InputTransformer{
			InputPathsMap: map[string]string{"v": path}, InputTemplate: template}})
		if err != nil {
			if wims.ErrorField(err) == "InputTransformer.InputTemplate" {
				t.Fatalf("template %q rejected: %v", template, err)
			}
			return
		}
		out, err := tr.Render([]byte(event), transform.RenderContext{RuleARN: pre + `"` + post})
		if err == nil && !json.Valid(out) {
			t.Fatalf("template %q on %q rendered invalid JSON %q", template, event, out)
		}
	})
}
