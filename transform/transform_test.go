package transform_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/transform"
)

// ec2Event is the example event of the user guide's "Input transform
// examples" (eb-transform-target-input).
const ec2Event = `{
  "version": "0",
  "id": "7bf73129-1428-4cd3-a780-95db273d1602",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "123456789012",
  "time": "2015-11-11T21:29:54Z",
  "region": "us-east-1",
  "resources": [
    "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"
  ],
  "detail": {
    "instance-id": "i-0123456789",
    "state": "RUNNING"
  }
}`

// ec2Paths is the guide's Input Path for that event.
var ec2Paths = map[string]string{
	"timestamp": "$.time",
	"instance":  "$.detail.instance-id",
	"state":     "$.detail.state",
	"resource":  "$.resources[0]",
}

var rc = transform.RenderContext{
	RuleARN:  "arn:aws:events:us-east-2:123456789012:rule/example",
	RuleName: "example",
}

func render(t *testing.T, target wims.Target, event string, rc transform.RenderContext) string {
	t.Helper()
	tr, err := transform.Compile(target)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	out, err := tr.Render([]byte(event), rc)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return string(out)
}

func withTemplate(paths map[string]string, template string) wims.Target {
	return wims.Target{InputTransformer: &wims.InputTransformer{InputPathsMap: paths, InputTemplate: template}}
}

// TestUserGuideExamples runs the template table of the user guide
// (eb-transform-target-input, "Input transform examples"), the output
// compacted as EventBridge sends it ("minified", Common issues).
func TestUserGuideExamples(t *testing.T) {
	for _, tc := range []struct{ name, template, want string }{
		{"SimpleString", `"instance <instance> is in <state>"`, `"instance i-0123456789 is in RUNNING"`},
		{"StringWithEscapedQuotes", `"instance \"<instance>\" is in <state>"`, `"instance \"i-0123456789\" is in RUNNING"`},
		{"SimpleJSON", "{\n  \"instance\" : <instance>,\n  \"state\": <state>\n}", `{"instance":"i-0123456789","state":"RUNNING"}`},
		{"JSONWithStringsAndVariables",
			`{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \"<instance>\" is in <state>"}`,
			`{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \"i-0123456789\" is in RUNNING"}`},
		{"JSONWithVariablesAndStatic",
			`{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}`,
			`{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}`},
		{"ReservedVariablesInString", `"<aws.events.rule-name> triggered"`, `"example triggered"`},
		{"ArrayIndex", `{"resource": <resource>}`, `{"resource":"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"}`},
		{"Timestamp", `{"timestamp": <timestamp>}`, `{"timestamp":"2015-11-11T21:29:54Z"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(t, withTemplate(ec2Paths, tc.template), ec2Event, rc); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestAPIReferenceExamples runs the three InputTemplate examples of the API
// reference (API_InputTransformer), with this event's key names.
func TestAPIReferenceExamples(t *testing.T) {
	paths := map[string]string{"instance": "$.detail.instance-id", "status": "$.detail.state"}
	for _, tc := range []struct{ name, template, want string }{
		{"Text", `<instance> is in state <status>`, `i-0123456789 is in state RUNNING`},
		{"TextWithQuotes", `<instance> is in state "<status>"`, `i-0123456789 is in state "RUNNING"`},
		{"JSON", `{"myInstance": <instance>,"myStatus": "<instance> is in state \"<status>\""}`,
			`{"myInstance":"i-0123456789","myStatus":"i-0123456789 is in state \"RUNNING\""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(t, withTemplate(paths, tc.template), ec2Event, rc); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestReservedVariablesInJSON is the guide's "Including reserved variables
// in JSON" row; <aws.events.event> is the event without detail.
func TestReservedVariablesInJSON(t *testing.T) {
	tpl := `{"instance" : <instance>, "state": <state>, "ruleArn" : <aws.events.rule-arn>, "ruleName" : <aws.events.rule-name>, "originalEvent" : <aws.events.event>}`
	got := render(t, withTemplate(ec2Paths, tpl), ec2Event, rc)
	want := `{"instance":"i-0123456789","state":"RUNNING","ruleArn":"arn:aws:events:us-east-2:123456789012:rule/example","ruleName":"example",` +
		`"originalEvent":{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detailType":"EC2 Instance State-change Notification","source":"aws.ec2",` +
		`"account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"]}}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestPredefinedVariables(t *testing.T) {
	t.Run("EventJSON", func(t *testing.T) {
		got := render(t, withTemplate(nil, `{"e": <aws.events.event.json>}`), ec2Event, rc)
		var v struct{ E map[string]any }
		if err := json.Unmarshal([]byte(got), &v); err != nil {
			t.Fatal(err)
		}
		if v.E["detail"] == nil || v.E["detail-type"] == nil {
			t.Fatalf("want the whole event, got %s", got)
		}
	})
	t.Run("IngestionTime", func(t *testing.T) {
		at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
		got := render(t, withTemplate(nil, `"at <aws.events.event.ingestion-time>"`), ec2Event,
			transform.RenderContext{IngestionTime: at})
		if want := `"at 2026-01-02T02:04:05Z"`; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
	t.Run("IngestionTimeFromEvent", func(t *testing.T) {
		got := render(t, withTemplate(nil, `{"t": <aws.events.event.ingestion-time>}`), ec2Event, transform.RenderContext{})
		if want := `{"t":"2015-11-11T21:29:54Z"}`; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
	t.Run("EventInString", func(t *testing.T) {
		got := render(t, withTemplate(nil, `{"s": "e=<aws.events.event>"}`), `{"a":{"b":"c"},"detail":{}}`, rc)
		if want := `{"s":"e={\"a\":{\"b\":\"c\"}}"}`; got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
}

func TestValues(t *testing.T) {
	event := `{"detail":{"s":"say \"hi\" <b>","n":1.50,"t":true,"z":null,"o":{"k":[1,2]},"a":["x","y"]}}`
	paths := map[string]string{"s": "$.detail.s", "n": "$.detail.n", "t": "$.detail.t", "z": "$.detail.z",
		"o": "$.detail.o", "a": "$.detail.a", "gone": "$.detail.nope", "deep": "$.detail.s.x", "all": "$.detail.a[*]"}
	for _, tc := range []struct{ name, template, want string }{
		{"ValuesOutsideStrings", `[<s>,<n>,<t>,<z>,<o>,<a>]`, `["say \"hi\" <b>",1.50,true,null,{"k":[1,2]},["x","y"]]`},
		{"ValuesInsideStrings", `"<s>|<n>|<t>|<z>|<o>|<a>"`, `"say \"hi\" <b>|1.50|true|null|{\"k\":[1,2]}|[\"x\",\"y\"]"`},
		{"MissingOutsideStringIsNull", `{"a": <gone>, "b": <deep>}`, `{"a":null,"b":null}`},
		{"MissingInsideStringIsEmpty", `{"a": "[<gone>]"}`, `{"a":"[]"}`},
		{"MissingInTextIsEmpty", `x=<gone>.`, `x=.`},
		{"TextDecodesStrings", `s=<s> o=<o>`, `s=say "hi" <b> o={"k":[1,2]}`},
		{"Wildcard", `{"all": <all>}`, `{"all":["x","y"]}`},
		{"NotAPlaceholder", `"a < b and <not one> and <>"`, `"a < b and <not one> and <>"`},
		{"LonePlaceholder", `<s>`, `"say \"hi\" <b>"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(t, withTemplate(paths, tc.template), event, rc); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestModes(t *testing.T) {
	event := `{"id":"1", "detail": {"data": {"NewImage": {"sku": "A"}}, "list": [ {"x":1}, {"x":2} ]}, "resources": ["r0","r1"]}`
	for _, tc := range []struct {
		name   string
		target wims.Target
		want   string
	}{
		{"WholeEventVerbatim", wims.Target{}, event},
		{"Constant", wims.Target{Input: `{ "fixed" : [1, 2] }`}, `{"fixed":[1,2]}`},
		{"PathRoot", wims.Target{InputPath: "$"}, `{"id":"1","detail":{"data":{"NewImage":{"sku":"A"}},"list":[{"x":1},{"x":2}]},"resources":["r0","r1"]}`},
		{"PathDetail", wims.Target{InputPath: "$.detail.data.NewImage"}, `{"sku":"A"}`},
		{"PathIndex", wims.Target{InputPath: "$.resources[1]"}, `"r1"`},
		{"PathIndexThenMember", wims.Target{InputPath: "$.detail.list[1].x"}, `2`},
		{"PathWildcard", wims.Target{InputPath: "$.detail.list[*].x"}, `[1,2]`},
		{"PathMemberWildcard", wims.Target{InputPath: "$.detail.data.*"}, `[{"sku":"A"}]`},
		{"PathMissingIsNull", wims.Target{InputPath: "$.detail.nothing"}, `null`},
		{"PathIndexOutOfRange", wims.Target{InputPath: "$.resources[5]"}, `null`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(t, tc.target, event, rc); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	many := map[string]string{}
	for i := 0; i <= wims.MaxInputPathsMapItems; i++ {
		many[fmt.Sprintf("v%d", i)] = "$.id"
	}
	for _, tc := range []struct {
		name   string
		target wims.Target
		field  string
	}{
		{"TwoInputs", wims.Target{Input: `{}`, InputPath: "$"}, "Input"},
		{"InputNotJSON", wims.Target{Input: `{`}, "Input"},
		{"PathWithoutDollar", wims.Target{InputPath: "detail"}, "InputPath"},
		{"PathEmptyMember", wims.Target{InputPath: "$..detail"}, "InputPath"},
		{"PathBadIndex", wims.Target{InputPath: "$.a[-1]"}, "InputPath"},
		{"PathBracketName", wims.Target{InputPath: "$['a']"}, "InputPath"},
		{"PathUnclosed", wims.Target{InputPath: "$.a[1"}, "InputPath"},
		{"PathTooLong", wims.Target{InputPath: "$." + strings.Repeat("a", wims.MaxInputPathLength)}, "InputPath"},
		{"TooManyPaths", withTemplate(many, `"x"`), "InputTransformer.InputPathsMap"},
		{"ReservedKey", withTemplate(map[string]string{"aws.mine": "$.id"}, `"x"`), "InputTransformer.InputPathsMap"},
		{"ReservedKeyUpper", withTemplate(map[string]string{"AWS.mine": "$.id"}, `"x"`), "InputTransformer.InputPathsMap"},
		{"BadKey", withTemplate(map[string]string{"a b": "$.id"}, `"x"`), "InputTransformer.InputPathsMap"},
		{"BadPath", withTemplate(map[string]string{"a": "id"}, `"<a>"`), "InputTransformer.InputPathsMap"},
		{"EmptyTemplate", withTemplate(nil, ""), "InputTransformer.InputTemplate"},
		{"TemplateTooLong", withTemplate(nil, strings.Repeat("x", wims.MaxInputLength+1)), "InputTransformer.InputTemplate"},
		{"UndefinedPlaceholder", withTemplate(map[string]string{"a": "$.id"}, `{"x": <b>}`), "InputTransformer.InputTemplate"},
		{"PlaceholderAsKey", withTemplate(map[string]string{"a": "$.id"}, `{<a>: 1}`), "InputTransformer.InputTemplate"},
		{"BrokenJSONObject", withTemplate(map[string]string{"a": "$.id"}, `{"x": <a>,}`), "InputTransformer.InputTemplate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := transform.Compile(tc.target)
			if got := wims.ErrorCode(err); got != wims.EINVALID {
				t.Fatalf("code=%q (%v), want %q", got, err, wims.EINVALID)
			}
			if got := wims.ErrorField(err); got != tc.field {
				t.Fatalf("field=%q (%v), want %q", got, err, tc.field)
			}
		})
	}
}

func TestRenderInvalidEvent(t *testing.T) {
	tr, err := transform.Compile(wims.Target{InputPath: "$.a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Render([]byte(`{"a":`), rc); !errors.Is(err, transform.ErrInvalidEvent) {
		t.Fatalf("err=%v, want ErrInvalidEvent", err)
	}
}

func TestSelect(t *testing.T) {
	v, ok, err := transform.Select([]byte(`{"detail":{"id":"o-1"}}`), "$.detail.id")
	if err != nil || !ok || string(v) != `"o-1"` {
		t.Fatalf("Select = %s, %v, %v", v, ok, err)
	}
	if _, ok, err := transform.Select([]byte(`{}`), "$.x"); err != nil || ok {
		t.Fatalf("missing: ok=%v err=%v", ok, err)
	}
	if _, _, err := transform.Select([]byte(`{}`), "x"); wims.ErrorCode(err) != wims.EINVALID {
		t.Fatalf("bad path: err=%v", err)
	}
}
