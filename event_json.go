package wims

import "encoding/json"

// AppendJSON appends e as json.Marshal encodes it, given that e.Detail is
// compact JSON, as json.Marshal and Keyring.SealDetail make it. The relay
// encodes every event it publishes; json.Marshal would scan the detail, most
// of the event, once more to compact it (a fortieth of a burst's CPU).
func (e Event) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"version":`...)
	dst = appendString(dst, e.Version)
	dst = append(dst, `,"id":`...)
	dst = appendString(dst, e.ID)
	dst = append(dst, `,"detail-type":`...)
	dst = appendString(dst, e.DetailType)
	dst = append(dst, `,"source":`...)
	dst = appendString(dst, e.Source)
	dst = append(dst, `,"account":`...)
	dst = appendString(dst, e.Account)
	dst = append(dst, `,"time":`...)
	t, err := e.Time.MarshalJSON()
	if err != nil {
		return nil, err
	}
	dst = append(dst, t...)
	dst = append(dst, `,"region":`...)
	dst = appendString(dst, e.Region)
	dst = append(dst, `,"resources":`...)
	if e.Resources == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, r := range e.Resources {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, r)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"detail":`...)
	if len(e.Detail) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, e.Detail...)
	}
	return append(dst, '}'), nil
}

// appendString appends s as a JSON string, escaped as json.Marshal escapes
// it (HTML characters included); plain ASCII, the envelope's usual content,
// is copied as it is.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // cannot fail for a string
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
