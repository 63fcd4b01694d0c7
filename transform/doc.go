// Package transform renders what a rule target receives, the way
// EventBridge does: the whole event, a constant Input, the value at an
// InputPath, or an InputTransformer's template filled in from the event.
//
// Compile checks a target's input settings once, when the target is
// written or loaded, so that delivering an event only evaluates paths and
// splices text; Render does that for one event.
//
// # Behaviour and its sources
//
// [UG] is the EventBridge user guide page "Transforming target input"
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html),
// [API] the API reference of InputTransformer and PutTargets, [LS] LocalStack's
// services/events/target.py, whose behaviour is checked against AWS by
// snapshot tests.
//
//   - No Input, InputPath or InputTransformer: the event, byte for byte.
//   - Input: the constant JSON text, compacted ("The JSON that is passed to
//     the target is minified", [UG] Common issues). It must be valid JSON
//     ([API] PutTargets).
//   - JSONPath: "$", then any of .name, [index], .* and [*] ([UG]: dot
//     notation, dashes, underscores, alphanumerics, array indices,
//     wildcards, forward slashes; its own example uses $.resources[0] despite
//     [API] saying "dot notation, not bracket notation"). A name is any run
//     of characters other than '.', '[', ']', whitespace, '<' and '>'. A
//     wildcard collects every match into a JSON array, in document order.
//     AWS does not validate paths when a target is created ([UG]); wims
//     rejects a path it could not evaluate, because otherwise every event
//     for that target would fail late, one by one.
//   - InputPath selecting nothing renders as null. AWS documents no result
//     for this case; null keeps the body valid JSON and tells the receiver
//     "nothing there" without inventing an empty object.
//   - InputTransformer: at most 100 InputPathsMap entries ([API]); keys are
//     letters, digits, '_' and '-' (the service model), and may not start
//     with "aws." in any case ([API]: "The keys can't start with AWS.";
//     [UG]: the predefined names are reserved). A placeholder is <name>
//     with name made of letters, digits, '_', '-' and '.'; any other '<' is
//     literal text. A placeholder naming neither a key nor a predefined
//     variable is a Compile error, as in [LS] ("InputTemplate for target …
//     contains invalid placeholder").
//   - A template whose text, once each placeholder is replaced by a dummy
//     value, is a JSON document is a JSON template. One that starts with '{'
//     or '[' must be one: a placeholder used as an object key ([API]: "The
//     placeholder cannot be used as an object key") or a typo is a Compile
//     error rather than a body the receiver cannot parse. Any other template
//     is a text template.
//   - In a JSON template, a placeholder outside a string becomes the
//     value's JSON text (a string with its quotes: "Simple JSON" example in
//     [UG]); inside a string it becomes the value's text without quotes
//     ("JSON with strings and variables", "Simple string" examples). A
//     string value keeps its JSON escapes, so the result stays valid JSON;
//     an object or array inside a string is escaped as string content. [UG]
//     says extracted values are not escaped and that <aws.events.event> "can
//     only be used as the value of a JSON field" because it is not; wims
//     escapes where not escaping would make invalid JSON, and only there.
//     The output is compacted.
//   - In a text template every placeholder becomes the value's text: a
//     string without quotes or escapes, anything else its JSON text. The
//     output is the template's text as written (the [API] example "<instance>
//     is in state <status>").
//   - A path that matches nothing: [UG] says "that variable isn't created
//     and won't appear in the output". Inside a string or in a text template
//     it is replaced by nothing; outside a string in a JSON template it
//     becomes null, since nothing would leave invalid JSON ([LS] substitutes
//     "" everywhere and produces exactly that).
//   - Predefined variables ([UG] Predefined variables): <aws.events.rule-arn>
//     and <aws.events.rule-name> (strings), <aws.events.event.ingestion-time>
//     (RFC 3339 in UTC, seconds, like the envelope's time; when the render
//     context has none, the event's own "time"), <aws.events.event> (the
//     event without its "detail" member, "detail-type" renamed
//     "detailType" as [LS] records it from AWS) and <aws.events.event.json>
//     (the whole event).
package transform
