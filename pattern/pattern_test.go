package pattern

import (
	"testing"
)

type matchCase struct {
	name    string
	pattern string
	event   string
	want    bool
}

// Course rules used by wims.
const (
	ruleOrdersInsert = `{"detail":{"data":{"table":["orders"],"eventType":["INSERT"]}}}`
	ruleLowStock     = `{"detail":{"data":{"table":["inventory"],"NewImage":{"quantity":[{"numeric":["<=",100]}]}}}}`
)

var matchCases = []matchCase{
	// --- the course's two rules ---
	// Both fields named by the rule are present with listed values.
	{"course orders insert", ruleOrdersInsert, `{"source":"wims.cdc","detail":{"data":{"table":"orders","eventType":"INSERT","key":{"id":"o1"}}}}`, true},
	// eventType is UPDATE, not in the single-value list: AND fails.
	{"course orders update_NEG", ruleOrdersInsert, `{"detail":{"data":{"table":"orders","eventType":"UPDATE"}}}`, false},
	// Strings are exact and case-sensitive (UG23 eb-event-patterns).
	{"course orders case_NEG", ruleOrdersInsert, `{"detail":{"data":{"table":"Orders","eventType":"INSERT"}}}`, false},
	// 42 <= 100 and table matches.
	{"course low stock", ruleLowStock, `{"detail":{"data":{"table":"inventory","NewImage":{"quantity":42,"sku":"A"}}}}`, true},
	// The bound is inclusive.
	{"course low stock boundary", ruleLowStock, `{"detail":{"data":{"table":"inventory","NewImage":{"quantity":100.0}}}}`, true},
	// 101 > 100.
	{"course low stock_NEG", ruleLowStock, `{"detail":{"data":{"table":"inventory","NewImage":{"quantity":101}}}}`, false},
	// numeric never matches a string (LS numeric-string_NEG).
	{"course low stock string_NEG", ruleLowStock, `{"detail":{"data":{"table":"inventory","NewImage":{"quantity":"42"}}}}`, false},
	// REMOVE events have no NewImage: the field is missing, so no match.
	{"course low stock missing_NEG", ruleLowStock, `{"detail":{"data":{"table":"inventory","OldImage":{"quantity":1}}}}`, false},

	// --- §1 structure ---
	// Unnamed event fields are ignored.
	{"extra fields ignored", `{"source":["a"]}`, `{"source":"a","x":{"y":[1,2,{"z":null}]},"w":"q"}`, true},
	// Every named field must be present.
	{"missing field_NEG", `{"source":["a"],"detail-type":["b"]}`, `{"source":"a"}`, false},
	// Key names are case-sensitive (LS key_case_sensitive_NEG).
	{"key_case_sensitive_NEG", `{"Source":["a"]}`, `{"source":"a"}`, false},
	// Same nesting is required: a top-level field does not satisfy a nested one.
	{"nesting_NEG", `{"detail":{"a":["x"]}}`, `{"a":"x","detail":{}}`, false},
	// A detail that is a JSON string is not parsed (LS nested_json_NEG).
	{"nested_json_NEG", `{"detail":{"a":["x"]}}`, `{"detail":"{\"a\":\"x\"}"}`, false},
	// Values in one array are OR'd.
	{"or within array", `{"a":["x","y","z"]}`, `{"a":"y"}`, true},
	// Types are distinct: 5 != "5" (LS boolean_NEG / null_value_NEG family).
	{"number vs string_NEG", `{"a":[5]}`, `{"a":"5"}`, false},
	{"string vs number_NEG", `{"a":["5"]}`, `{"a":5}`, false},
	// true != "true".
	{"boolean_NEG", `{"a":[true]}`, `{"a":"true"}`, false},
	{"boolean", `{"a":[true]}`, `{"a":true}`, true},
	{"boolean false", `{"a":[false]}`, `{"a":false}`, true},
	// null matches only null (LS null_value_NEG), not "" nor "null".
	{"null_value", `{"a":[null]}`, `{"a":null}`, true},
	{"null_value_NEG empty", `{"a":[null]}`, `{"a":""}`, false},
	{"null_value_NEG string", `{"a":[null]}`, `{"a":"null"}`, false},
	{"empty string", `{"a":[""]}`, `{"a":""}`, true},
	{"empty string vs null_NEG", `{"a":[""]}`, `{"a":null}`, false},
	// Exact numbers are normalised (ER writeRules; LS number_comparison_float).
	{"number_comparison_float", `{"a":[300]}`, `{"a":300.0}`, true},
	{"number exponent", `{"a":[300]}`, `{"a":3e2}`, true},
	{"number pattern exponent", `{"a":[3.0e2]}`, `{"a":300}`, true},
	{"number negative zero", `{"a":[0]}`, `{"a":-0.0}`, true},
	{"number_NEG", `{"a":[300]}`, `{"a":300.5}`, false},
	// No Unicode or whitespace normalisation.
	{"whitespace_NEG", `{"a":["x"]}`, `{"a":"x "}`, false},
	{"unicode escapes decoded", `{"a":["é"]}`, `{"a":"\u00e9"}`, true},
	{"unicode NFC/NFD_NEG", `{"a":["é"]}`, `{"a":"e\u0301"}`, false},
	// Arrays: any element matching is enough.
	{"array any element", `{"resources":["arn:b"]}`, `{"resources":["arn:a","arn:b"]}`, true},
	{"array none_NEG", `{"resources":["arn:c"]}`, `{"resources":["arn:a","arn:b"]}`, false},
	// An empty array has no values (LS arrays_empty_null_NEG).
	{"arrays_empty_null_NEG", `{"a":[null]}`, `{"a":[]}`, false},
	// Nested arrays are flattened.
	{"nested arrays", `{"a":[3]}`, `{"a":[[1,2],[3]]}`, true},
	// Objects inside arrays are crushed (ER README "JSON Array Matching").
	{"array of objects", `{"lines":{"sku":["B"]}}`, `{"lines":[{"sku":"A"},{"sku":"B"}]}`, true},
	// Array-consistent: b and c must come from the same element.
	{"array consistency_NEG", `{"a":{"b":["1"],"c":["2"]}}`, `{"a":[{"b":"1","c":"x"},{"b":"y","c":"2"}]}`, false},
	{"array consistency", `{"a":{"b":["1"],"c":["2"]}}`, `{"a":[{"b":"1","c":"x"},{"b":"1","c":"2"}]}`, true},
	// Fields in different arrays are independent.
	{"array consistency different arrays", `{"a":{"b":["1"]},"d":{"c":["2"]}}`, `{"a":[{"b":"1"},{"b":"3"}],"d":[{"c":"9"},{"c":"2"}]}`, true},
	// A field outside the array combines with any element.
	{"array consistency outer field", `{"id":["x"],"a":{"b":["1"]}}`, `{"id":"x","a":[{"b":"0"},{"b":"1"}]}`, true},
	// Nested arrays: sku and tag must come from the same line.
	{"nested array consistency_NEG", `{"lines":{"sku":["A"],"tags":["sale"]}}`, `{"lines":[{"sku":"A","tags":["new"]},{"sku":"B","tags":["sale","x"]}]}`, false},
	{"nested array consistency", `{"lines":{"sku":["B"],"tags":["sale"]}}`, `{"lines":[{"sku":"A","tags":["new"]},{"sku":"B","tags":["x","sale"]}]}`, true},
	// Duplicate keys in a pattern are resolved per flattened path: the last
	// copy of a path wins (UG23 content-filtering; the ruler writes each leaf
	// into a map keyed by path, GenericMachine ruleOverriding=true by default,
	// aws/event-ruler#22). They are not OR-ed.
	{"duplicate key last wins", `{"a":["x"],"a":["y"]}`, `{"a":"y"}`, true},
	{"duplicate key last wins_NEG", `{"a":["x"],"a":["y"]}`, `{"a":"x"}`, false},
	// Duplicate nested objects merge path by path: the ruler streams both
	// copies, so a.b and a.c are both conditions.
	{"duplicate object merges paths", `{"a":{"b":["1"]},"a":{"c":["2"]}}`, `{"a":{"b":"1","c":"2"}}`, true},
	{"duplicate object merges paths_NEG", `{"a":{"b":["1"]},"a":{"c":["2"]}}`, `{"a":{"c":"2"}}`, false},
	{"duplicate object same path last wins", `{"a":{"b":["1"]},"a":{"b":["2"],"c":["3"]}}`, `{"a":{"b":"2","c":"3"}}`, true},
	{"duplicate object same path last wins_NEG", `{"a":{"b":["1"]},"a":{"b":["2"],"c":["3"]}}`, `{"a":{"b":"1","c":"3"}}`, false},
	// A dotted key and a nested object are the same flattened path.
	{"duplicate dotted path last wins", `{"a.b":["1"],"a":{"b":["2"]}}`, `{"a":{"b":"2"}}`, true},
	{"duplicate dotted path last wins_NEG", `{"a.b":["1"],"a":{"b":["2"]}}`, `{"a":{"b":"1"}}`, false},
	// A later top-level copy overrides the path in every $or branch, because
	// the ruler writes it into each forked sub-rule map (parseIntoOrRelationship).
	{"duplicate after $or overrides branch", `{"$or":[{"a":["1"]},{"b":["2"]}],"a":["3"]}`, `{"a":"3"}`, true},
	{"duplicate after $or overrides branch_NEG", `{"$or":[{"a":["1"]},{"b":["2"]}],"a":["3"]}`, `{"a":"1"}`, false},
	// A branch's copy overrides an earlier top-level one in that branch only.
	{"duplicate inside $or overrides earlier", `{"a":["3"],"$or":[{"a":["1"]},{"b":["2"]}]}`, `{"a":"1"}`, true},
	{"duplicate inside $or other branch keeps earlier", `{"a":["3"],"$or":[{"a":["1"]},{"b":["2"]}]}`, `{"a":"3","b":"2"}`, true},
	{"duplicate inside $or other branch keeps earlier_NEG", `{"a":["3"],"$or":[{"a":["1"]},{"b":["2"]}]}`, `{"a":"2","b":"2"}`, false},
	// Two $or keys in one object multiply, as two sequential forks do.
	{"duplicate $or multiplies", `{"$or":[{"a":["1"]},{"b":["2"]}],"$or":[{"c":["3"]},{"d":["4"]}]}`, `{"b":"2","c":"3"}`, true},
	{"duplicate $or multiplies_NEG", `{"$or":[{"a":["1"]},{"b":["2"]}],"$or":[{"c":["3"]},{"d":["4"]}]}`, `{"b":"2"}`, false},
	// Dotted keys are joined (ER README caveat; LS dot_joining_*).
	{"dot_joining_pattern", `{"a.b":["x"]}`, `{"a":{"b":"x"}}`, true},
	{"dot_joining_event", `{"a":{"b":["x"]}}`, `{"a.b":"x"}`, true},
	{"dot_joining_both", `{"a.b":{"c":["x"]}}`, `{"a":{"b.c":"x"}}`, true},
	{"dot_joining_NEG", `{"a.b":["x"]}`, `{"a":{"c":"x"}}`, false},
	// Empty keys are real path segments: {"":{"":..}} is the path "." (fuzz-found).
	{"empty keys nest", `{"":{"":[""]}}`, `{"":{"":""}}`, true},
	{"empty keys depth_NEG", `{"":{"":{"":[""]}}}`, `{"":{"":""}}`, false},
	// Escaped keys and values are decoded before comparison.
	{"escaped key", `{"a\"b":["x"]}`, `{"a\u0022b":"\u0078"}`, true},
	{"surrogate pair", `{"a":["😀"]}`, `{"a":"\ud83d\ude00"}`, true},
	// Whitespace in the event is irrelevant.
	{"whitespace in event", `{"a":{"b":[1]}}`, " {\n\t\"a\" : { \"b\" :\r 1 } } ", true},

	// --- prefix / suffix ---
	{"prefix", `{"region":[{"prefix":"us-"}]}`, `{"region":"us-east-1"}`, true},
	{"prefix_NEG", `{"region":[{"prefix":"us-"}]}`, `{"region":"eu-west-1"}`, false},
	// prefix is strings only (ER keeps the opening quote).
	{"prefix number_NEG", `{"a":[{"prefix":"1"}]}`, `{"a":123}`, false},
	// "" matches every string (LS content_prefix_empty).
	{"content_prefix_empty", `{"a":[{"prefix":""}]}`, `{"a":"anything"}`, true},
	{"content_prefix_empty null_NEG", `{"a":[{"prefix":""}]}`, `{"a":null}`, false},
	// LS content_prefix_ignorecase.
	{"content_prefix_ignorecase", `{"a":[{"prefix":{"equals-ignore-case":"EventB"}}]}`, `{"a":"eventbridge"}`, true},
	{"content_prefix_ignorecase_NEG", `{"a":[{"prefix":{"equals-ignore-case":"EventB"}}]}`, `{"a":"event"}`, false},
	{"suffix", `{"a":[{"suffix":".png"}]}`, `{"a":"img.png"}`, true},
	{"suffix_NEG", `{"a":[{"suffix":".png"}]}`, `{"a":"img.PNG"}`, false},
	// LS content_suffix_empty.
	{"content_suffix_empty", `{"a":[{"suffix":""}]}`, `{"a":""}`, true},
	// LS content_suffix_ignorecase(_NEG).
	{"content_suffix_ignorecase", `{"a":[{"suffix":{"equals-ignore-case":".PNG"}}]}`, `{"a":"img.png"}`, true},
	{"content_suffix_ignorecase_NEG", `{"a":[{"suffix":{"equals-ignore-case":".PNG"}}]}`, `{"a":"img.jpg"}`, false},

	// --- equals-ignore-case ---
	{"content_ignorecase", `{"a":[{"equals-ignore-case":"alice"}]}`, `{"a":"ALICE"}`, true},
	{"content_ignorecase unicode", `{"a":[{"equals-ignore-case":"ÉCOLE"}]}`, `{"a":"école"}`, true},
	// Whole-value comparison, not substring.
	{"content_ignorecase_NEG", `{"a":[{"equals-ignore-case":"alice"}]}`, `{"a":"alicex"}`, false},
	// "" matches only "" (LS content_ignorecase_empty(_NEG)).
	{"content_ignorecase_empty", `{"a":[{"equals-ignore-case":""}]}`, `{"a":""}`, true},
	{"content_ignorecase_empty_NEG", `{"a":[{"equals-ignore-case":""}]}`, `{"a":"x"}`, false},
	// Strings only.
	{"ignorecase number_NEG", `{"a":[{"equals-ignore-case":"5"}]}`, `{"a":5}`, false},
	// Kelvin sign folds with k (simple case folding).
	{"ignorecase kelvin", `{"a":[{"equals-ignore-case":"k"}]}`, `{"a":"\u212a"}`, true},

	// --- wildcard ---
	{"wildcard", `{"a":[{"wildcard":"*/lib/*.jar"}]}`, `{"a":"/opt/lib/x.jar"}`, true},
	{"wildcard_NEG", `{"a":[{"wildcard":"*/lib/*.jar"}]}`, `{"a":"/opt/bin/x.jar"}`, false},
	// * matches zero characters.
	{"wildcard zero", `{"a":[{"wildcard":"ab*c"}]}`, `{"a":"abc"}`, true},
	// The literal parts may not overlap.
	{"wildcard overlap_NEG", `{"a":[{"wildcard":"ab*ba"}]}`, `{"a":"aba"}`, false},
	// \* is a literal star.
	{"wildcard escaped star", `{"a":[{"wildcard":"a\\*b"}]}`, `{"a":"a*b"}`, true},
	{"wildcard escaped star_NEG", `{"a":[{"wildcard":"a\\*b"}]}`, `{"a":"axb"}`, false},
	// \\ is a literal backslash.
	{"wildcard escaped backslash", `{"a":[{"wildcard":"a\\\\*"}]}`, `{"a":"a\\bc"}`, true},
	// "" matches only "" (LS content_wildcard_empty_NEG).
	{"content_wildcard_empty_NEG", `{"a":[{"wildcard":""}]}`, `{"a":"x"}`, false},
	{"content_wildcard_empty", `{"a":[{"wildcard":""}]}`, `{"a":""}`, true},
	// Strings only.
	{"wildcard number_NEG", `{"a":[{"wildcard":"1*"}]}`, `{"a":12}`, false},
	{"wildcard star only", `{"a":[{"wildcard":"*"}]}`, `{"a":""}`, true},

	// --- anything-but ---
	{"anything-but string", `{"a":[{"anything-but":"x"}]}`, `{"a":"y"}`, true},
	{"anything-but string_NEG", `{"a":[{"anything-but":"x"}]}`, `{"a":"x"}`, false},
	// Matches null and other types (LS content_anything_but_string_null).
	{"content_anything_but_string_null", `{"a":[{"anything-but":"x"}]}`, `{"a":null}`, true},
	{"anything-but string vs number", `{"a":[{"anything-but":"5"}]}`, `{"a":5}`, true},
	{"anything-but bool", `{"a":[{"anything-but":["x"]}]}`, `{"a":true}`, true},
	// Never matches a missing field (LS *_missing_NEG).
	{"content_anything_but_missing_NEG", `{"a":[{"anything-but":"x"}]}`, `{"b":"y"}`, false},
	{"anything-but list", `{"a":[{"anything-but":["x","y"]}]}`, `{"a":"z"}`, true},
	{"anything-but list_NEG", `{"a":[{"anything-but":["x","y"]}]}`, `{"a":"y"}`, false},
	// Numbers compare numerically: 100 vs 100.0 excluded (verified on the ruler).
	{"anything-but number_NEG", `{"a":[{"anything-but":100}]}`, `{"a":100.0}`, false},
	{"anything-but number", `{"a":[{"anything-but":[100,200]}]}`, `{"a":150}`, true},
	{"anything-but number vs string", `{"a":[{"anything-but":[100]}]}`, `{"a":"100"}`, true},
	// On an event array: matches if any element is not excluded.
	{"anything-but array", `{"a":[{"anything-but":["x"]}]}`, `{"a":["x","y"]}`, true},
	{"anything-but array_NEG", `{"a":[{"anything-but":["x","y"]}]}`, `{"a":["x","y"]}`, false},
	{"anything-but empty array_NEG", `{"a":[{"anything-but":["x"]}]}`, `{"a":[]}`, false},
	// anything-but prefix (LS content_anything_prefix*).
	{"content_anything_prefix", `{"a":[{"anything-but":{"prefix":"init"}}]}`, `{"a":"started"}`, true},
	{"content_anything_prefix_NEG", `{"a":[{"anything-but":{"prefix":"init"}}]}`, `{"a":"initiated"}`, false},
	{"content_anything_prefix_list", `{"a":[{"anything-but":{"prefix":["init","start"]}}]}`, `{"a":"starting"}`, false},
	{"content_anything_prefix_int_value", `{"a":[{"anything-but":{"prefix":"1"}}]}`, `{"a":123}`, true},
	{"content_anything_prefix_null", `{"a":[{"anything-but":{"prefix":"x"}}]}`, `{"a":null}`, true},
	{"content_anything_suffix", `{"a":[{"anything-but":{"suffix":".txt"}}]}`, `{"a":"a.png"}`, true},
	{"content_anything_suffix_list_NEG", `{"a":[{"anything-but":{"suffix":[".txt",".png"]}}]}`, `{"a":"a.png"}`, false},
	// anything-but equals-ignore-case (LS content_anything_but_ignorecase*).
	{"content_anything_but_ignorecase_NEG", `{"a":[{"anything-but":{"equals-ignore-case":"ALICE"}}]}`, `{"a":"alice"}`, false},
	{"content_anything_but_ignorecase_list", `{"a":[{"anything-but":{"equals-ignore-case":["ALICE","BOB"]}}]}`, `{"a":"carol"}`, true},
	{"content_anything_but_ignorecase_null", `{"a":[{"anything-but":{"equals-ignore-case":"x"}}]}`, `{"a":null}`, true},
	// anything-but wildcard (LS content_anything_wildcard*).
	{"content_anything_wildcard", `{"a":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, `{"a":"/bin/x"}`, true},
	{"content_anything_wildcard_list_NEG", `{"a":[{"anything-but":{"wildcard":["*/lib/*","*/bin/*"]}}]}`, `{"a":"/bin/x"}`, false},
	{"content_anything_wildcard_int", `{"a":[{"anything-but":{"wildcard":"1*"}}]}`, `{"a":12}`, true},

	// --- numeric ---
	{"numeric range", `{"a":[{"numeric":[">",0,"<=",5]}]}`, `{"a":5}`, true},
	{"numeric range low_NEG", `{"a":[{"numeric":[">",0,"<=",5]}]}`, `{"a":0}`, false},
	{"numeric range high_NEG", `{"a":[{"numeric":[">",0,"<=",5]}]}`, `{"a":5.000001}`, false},
	{"numeric >=", `{"a":[{"numeric":[">=",10]}]}`, `{"a":10}`, true},
	{"numeric <", `{"a":[{"numeric":["<",10]}]}`, `{"a":-1e9}`, true},
	{"numeric <_NEG", `{"a":[{"numeric":["<",10]}]}`, `{"a":10}`, false},
	// = with normalised spelling (UG23 example; LS numeric-int-float).
	{"numeric-int-float", `{"a":[{"numeric":["=",3.018e2]}]}`, `{"a":301.8}`, true},
	{"numeric = int", `{"a":[{"numeric":["=",3]}]}`, `{"a":3.0e0}`, true},
	// Strings, null and booleans never match (LS numeric-string_NEG, numeric-null_NEG).
	{"numeric-string_NEG", `{"a":[{"numeric":[">",0]}]}`, `{"a":"5"}`, false},
	{"numeric-null_NEG", `{"a":[{"numeric":[">",0]}]}`, `{"a":null}`, false},
	{"numeric-bool_NEG", `{"a":[{"numeric":[">",0]}]}`, `{"a":true}`, false},
	// Large and small numbers (full float64 range since ruler PR #188).
	{"numeric large", `{"a":[{"numeric":[">",1e15]}]}`, `{"a":1.2345678901234567e19}`, true},
	// An event number that is not exactly a double has no numeric form in the
	// ruler (ComparableNumber.generate refuses it, ByteMachine falls back to
	// the string transition), so no range matches it.
	{"numeric large not a double_NEG", `{"a":[{"numeric":[">",1e15]}]}`, `{"a":12345678901234567890}`, false},
	{"numeric tiny", `{"a":[{"numeric":[">",0,"<",1e-9]}]}`, `{"a":1e-10}`, true},
	{"numeric array", `{"a":[{"numeric":[">",10]}]}`, `{"a":[1,2,30]}`, true},

	// --- numbers beyond double precision (ER ComparableNumber.generate) ---
	// A literal that is exactly a double compares as a double: 300 = 3e2.
	{"exact double spellings", `{"a":[1.5e1]}`, `{"a":15.000}`, true},
	// 0.30000000000000004 is the shortest form of its double, so it is exact.
	{"exact 17 digits", `{"a":[0.30000000000000004]}`, `{"a":3.0000000000000004e-1}`, true},
	// A literal beyond double precision keeps only its text matcher in the
	// ruler (writeRules swallows the numericEquals failure), and an event
	// number beyond double precision is only ever compared as text.
	{"inexact same text", `{"a":[12345678901234567890123]}`, `{"a":12345678901234567890123}`, true},
	{"inexact same double other text_NEG", `{"a":[12345678901234567890123]}`, `{"a":12345678901234567890124}`, false},
	{"inexact vs its double_NEG", `{"a":[12345678901234567890123]}`, `{"a":1.2345678901234568e22}`, false},
	{"double vs inexact event_NEG", `{"a":[1.2345678901234568e22]}`, `{"a":12345678901234567890123}`, false},
	{"inexact fraction same text", `{"a":[0.1000000000000000000001]}`, `{"a":0.1000000000000000000001}`, true},
	{"inexact fraction vs 0.1_NEG", `{"a":[0.1000000000000000000001]}`, `{"a":0.1}`, false},
	{"0.1 vs inexact fraction_NEG", `{"a":[0.1]}`, `{"a":0.1000000000000000000001}`, false},
	// Text only: a string with the same characters is another type.
	{"inexact vs string_NEG", `{"a":[12345678901234567890123]}`, `{"a":"12345678901234567890123"}`, false},
	// Underflow is not exact either (BigDecimal 1e-400 != 0.0): text only.
	{"underflow same text", `{"a":[1e-400]}`, `{"a":1e-400}`, true},
	{"underflow vs zero_NEG", `{"a":[0]}`, `{"a":1e-400}`, false},
	// Zero is exact whatever its spelling.
	{"zero spellings", `{"a":[0]}`, `{"a":0e999}`, true},
	// anything-but numbers are all exact, so an inexact event number is never excluded.
	{"anything-but vs inexact event", `{"a":[{"anything-but":[1.2345678901234568e22]}]}`, `{"a":12345678901234567890123}`, true},
	{"exists vs inexact event", `{"a":[{"exists":true}]}`, `{"a":12345678901234567890123}`, true},
	{"numeric vs inexact fraction_NEG", `{"a":[{"numeric":["<",1]}]}`, `{"a":0.1000000000000000000001}`, false},

	// --- out-of-range event numbers ---
	// 1e400 is not a double (ComparableNumber refuses Infinity): never numeric.
	{"numeric vs 1e400_NEG", `{"a":[{"numeric":[">",0]}]}`, `{"a":1e400}`, false},
	{"numeric vs -1e400_NEG", `{"a":[{"numeric":["<",0]}]}`, `{"a":-1e400}`, false},
	{"exact max vs 1e400_NEG", `{"a":[1.7976931348623157e308]}`, `{"a":1e400}`, false},
	{"anything-but vs 1e400", `{"a":[{"anything-but":[1]}]}`, `{"a":1e400}`, true},
	{"exists vs 1e400", `{"a":[{"exists":true}]}`, `{"a":1e400}`, true},
	{"exists false vs 1e400_NEG", `{"a":[{"exists":false}]}`, `{"a":1e400}`, false},
	{"1e400 among numbers", `{"a":[{"numeric":[">",0]}]}`, `{"a":[1e400,5]}`, true},

	// --- exists ---
	{"exists true", `{"a":[{"exists":true}]}`, `{"a":"x"}`, true},
	{"exists true missing_NEG", `{"a":[{"exists":true}]}`, `{"b":"x"}`, false},
	// null and "" count as present (ER Event.java emits null).
	{"exists true null", `{"a":[{"exists":true}]}`, `{"a":null}`, true},
	{"exists true empty string", `{"a":[{"exists":true}]}`, `{"a":""}`, true},
	// exists:true on an object: no match (UG23; LS exists_dynamodb_NEG).
	{"exists_dynamodb_NEG", `{"a":[{"exists":true}]}`, `{"a":{"b":1}}`, false},
	// An empty array counts as absent (LS exists_list_empty_NEG).
	{"exists_list_empty_NEG", `{"a":[{"exists":true}]}`, `{"a":[]}`, false},
	{"exists true list", `{"a":[{"exists":true}]}`, `{"a":[1]}`, true},
	{"exists false", `{"a":[{"exists":false}]}`, `{"b":"x"}`, true},
	{"exists false_NEG", `{"a":[{"exists":false}]}`, `{"a":"x"}`, false},
	{"exists false null_NEG", `{"a":[{"exists":false}]}`, `{"a":null}`, false},
	// exists:false on an object matches (ER README).
	{"exists false object", `{"a":[{"exists":false}]}`, `{"a":{"b":1}}`, true},
	{"exists false empty list", `{"a":[{"exists":false}]}`, `{"a":[]}`, true},
	// exists:false is array-consistent: each array element is its own object,
	// so element 0 (c=x, no b) satisfies the pattern. The ruler checks
	// absence against the fields consistent with its match so far
	// (NameState.getNameTransitions); unlike the ruler the result does not
	// depend on whether the absent key sorts before the others.
	{"exists false array element", `{"a":{"b":[{"exists":false}],"c":["x"]}}`, `{"a":[{"c":"x"},{"b":1,"c":"y"}]}`, true},
	{"exists false array element_NEG", `{"a":{"b":[{"exists":false}],"c":["x"]}}`, `{"a":[{"b":1,"c":"x"}]}`, false},
	{"exists false array element sorted after", `{"a":{"z":[{"exists":false}],"c":["x"]}}`, `{"a":[{"c":"x"},{"z":1,"c":"y"}]}`, true},
	{"exists false array element sorted after_NEG", `{"a":{"z":[{"exists":false}],"c":["x"]}}`, `{"a":[{"c":"y"},{"z":1,"c":"x"}]}`, false},
	// A value outside the array is in every element's record.
	{"exists false outside array_NEG", `{"b":[{"exists":false}],"a":{"c":["x"]}}`, `{"b":1,"a":[{"c":"x"}]}`, false},
	// With nothing else chosen, any value at the path is present.
	{"exists false alone in array_NEG", `{"a":{"b":[{"exists":false}]}}`, `{"a":[{"c":1},{"b":1}]}`, false},
	// Two absent fields in the same element.
	{"exists false two fields", `{"a":{"b":[{"exists":false}],"d":[{"exists":false}],"c":["x"]}}`, `{"a":[{"c":"x","d":1},{"c":"x","b":1},{"c":"x"}]}`, true},
	{"exists false two fields_NEG", `{"a":{"b":[{"exists":false}],"d":[{"exists":false}],"c":["x"]}}`, `{"a":[{"c":"x","d":1},{"c":"x","b":1}]}`, false},
	// OR-ed with a value matcher: either the value or absence, per element.
	{"exists false or value in array", `{"a":{"b":[{"exists":false},"ok"],"c":["x"]}}`, `{"a":[{"c":"y"},{"b":"ok","c":"x"}]}`, true},
	{"exists false or value in array_NEG", `{"a":{"b":[{"exists":false},"ok"],"c":["x"]}}`, `{"a":[{"b":"no","c":"x"}]}`, false},
	// Nested arrays: the absent field may sit one level deeper.
	{"exists false nested arrays", `{"lines":{"sku":["A"],"tags":{"k":[{"exists":false}]}}}`, `{"lines":[{"sku":"A","tags":[{"v":1}]},{"sku":"B","tags":[{"k":1}]}]}`, true},
	{"exists false nested arrays_NEG", `{"lines":{"sku":["A"],"tags":{"k":[{"exists":false}]}}}`, `{"lines":[{"sku":"A","tags":[{"v":1},{"k":1}]}]}`, false},
	// replay-name exclusion used by archives.
	{"exists false replay-name", `{"source":["s"],"replay-name":[{"exists":false}]}`, `{"source":"s"}`, true},
	{"exists false replay-name_NEG", `{"source":["s"],"replay-name":[{"exists":false}]}`, `{"source":"s","replay-name":"r1"}`, false},
	// exists may share an array with other matchers, OR'd (LS or-exists, operator_multiple_list).
	{"or-exists absent", `{"a":[{"anything-but":["x"]},{"exists":false}]}`, `{"b":1}`, true},
	{"or-exists other", `{"a":[{"anything-but":["x"]},{"exists":false}]}`, `{"a":"y"}`, true},
	{"or-exists_NEG", `{"a":[{"anything-but":["x"]},{"exists":false}]}`, `{"a":"x"}`, false},
	{"operator_multiple_list", `{"a":[{"prefix":"p"},{"suffix":"s"},"exact",{"numeric":[">",5]}]}`, `{"a":9}`, true},
	{"operator_multiple_list_NEG", `{"a":[{"prefix":"p"},{"suffix":"s"},"exact",{"numeric":[">",5]}]}`, `{"a":"zzz"}`, false},

	// --- cidr ---
	{"content_ip_address", `{"ip":[{"cidr":"10.0.0.0/24"}]}`, `{"ip":"10.0.0.255"}`, true},
	{"content_ip_address_NEG", `{"ip":[{"cidr":"10.0.0.0/24"}]}`, `{"ip":"10.0.1.0"}`, false},
	// Host bits in the pattern are masked off (ER CIDR.java).
	{"cidr host bits", `{"ip":[{"cidr":"10.0.0.7/24"}]}`, `{"ip":"10.0.0.1"}`, true},
	// The event string is parsed, so uncompressed IPv6 matches (LS content_ip_address_v6).
	{"content_ip_address_v6", `{"ip":[{"cidr":"2001:db8::/64"}]}`, `{"ip":"2001:0db8:0000:0000:0000:0000:0000:0001"}`, true},
	{"content_ip_address_v6_NEG", `{"ip":[{"cidr":"2001:db8::/64"}]}`, `{"ip":"2001:db9::1"}`, false},
	// Non-IP strings and numbers never match (LS content_ip_address_bad_type_NEG).
	{"content_ip_address_bad_type_NEG", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":10}`, false},
	{"cidr not an ip_NEG", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":"10.x"}`, false},
	{"cidr v4 vs v6_NEG", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":"::ffff:10.0.0.1"}`, false},
	{"cidr /0", `{"ip":[{"cidr":"0.0.0.0/0"}]}`, `{"ip":"192.168.1.1"}`, true},

	// --- $or ---
	{"$or top level", `{"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"b":"y"}`, true},
	{"$or top level_NEG", `{"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"a":"y","b":"x"}`, false},
	{"$or with and", `{"source":["s"],"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"source":"s","a":"x"}`, true},
	{"$or with and_NEG", `{"source":["s"],"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"source":"t","a":"x"}`, false},
	// Nested inside a field, and a branch may AND several fields (ER README).
	{"$or nested", `{"detail":{"$or":[{"c":["1"],"d":["2"]},{"e":[{"exists":true}]}]}}`, `{"detail":{"c":"1","d":"2"}}`, true},
	{"$or nested_NEG", `{"detail":{"$or":[{"c":["1"],"d":["2"]},{"e":[{"exists":true}]}]}}`, `{"detail":{"c":"1","d":"3"}}`, false},
	{"$or nested $or", `{"$or":[{"a":["1"]},{"$or":[{"b":["2"]},{"c":["3"]}]}]}`, `{"c":"3"}`, true},
	{"$or with numeric", `{"$or":[{"a":[{"numeric":[">",5]}]},{"a":[{"numeric":["<",0]}]}]}`, `{"a":-1}`, true},
	// A field named "$or" whose value is an object is an ordinary field.
	{"$or as a field name", `{"$or":{"a":["x"]}}`, `{"$or":{"a":"x"}}`, true},
}

func TestMatchTable(t *testing.T) {
	for _, tc := range matchCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile([]byte(tc.pattern))
			if err != nil {
				t.Fatalf("Compile(%s): %v", tc.pattern, err)
			}
			got, err := p.Match([]byte(tc.event))
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tc.want {
				t.Errorf("Match(%s, %s) = %v, want %v", tc.pattern, tc.event, got, tc.want)
			}
			ref, valid := refEval([]byte(tc.pattern), []byte(tc.event))
			if !valid || ref != tc.want {
				t.Errorf("reference evaluator = %v (valid %v), want %v", ref, valid, tc.want)
			}
			m := NewMatcher()
			m.Add("r", p)
			names, err := m.Match([]byte(tc.event))
			if err != nil || (len(names) == 1) != tc.want {
				t.Errorf("Matcher.Match = %v, %v; want match=%v", names, err, tc.want)
			}
		})
	}
}
